// Entry point of `cl-server`. With --with-worker it also runs a worker in the same process, logged
// in as root: that is the local instance `cl` starts by itself. This file is the one place where
// server and worker meet.
import { createHash } from 'node:crypto';
import { cpus, hostname } from 'node:os';
import { join } from 'node:path';
import { ROOT_USER_NAME } from '../protocol/index.js';
import { preferAtomicGarbageCollection } from '../common/gc-tuning.js';
import { createLogger } from '../common/log.js';
import { startServer } from '../server/server.js';
import { createWorkerConfig } from '../worker/config.js';
import { defaultSlots } from '../worker/flag-values.js';
import { startWorker } from '../worker/index.js';
import { UsageError } from '../common/usage-error.js';
import { COPY_DATABASE_COMMAND, runCopyDatabase } from './copy-database-command.js';
import { parseServerArgs, type ServerArgs } from './server-args.js';

export async function main(argv: string[]): Promise<void> {
  preferAtomicGarbageCollection();
  if (argv[0] === COPY_DATABASE_COMMAND) return runCopyDatabase(argv.slice(1));
  let args: ServerArgs;
  try {
    const parsed = parseServerArgs(argv, process.env);
    if (parsed.kind === 'help') {
      process.stdout.write(parsed.text);
      return;
    }
    args = parsed.args;
  } catch (error) {
    process.stderr.write(`cl-server: ${(error as Error).message}\n`);
    // 2 for a bad flag (the usage convention); 1 for anything else that stops the start.
    process.exit(error instanceof UsageError ? 2 : 1);
  }
  const log = createLogger({ program: 'cl-server', verbose: args.verbose, format: args.logFormat });
  let server;
  try {
    server = await startServer(args.config, log);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const message = code === 'EADDRINUSE'
      ? `port ${args.config.port} on ${args.config.host} is already in use; pick another with --port.`
      : (error as Error).message;
    process.stderr.write(`cl-server: ${message}\n`);
    process.exit(1);
  }
  const worker = args.withWorker
    ? await startWorker(
        createWorkerConfig(
          {
            serverUrl: server.url,
            username: ROOT_USER_NAME,
            password: server.rootPassword,
            workDir: join(args.config.home, 'worker'),
            hostname: hostname(),
          },
          // As many runs at once as the machine has CPUs, like a cl-worker started with defaults. It
          // shares this process's file system, so it mounts dependencies straight from the store.
          {
            id: embeddedWorkerId(args.config.home),
            verbose: args.verbose,
            logFormat: args.logFormat,
            slots: defaultSlots(null, cpus().length),
            sharedFileSystem: true,
          },
        ),
        // Its lines say which program wrote them, though both share this process's stderr.
        { log: createLogger({ program: 'cl-worker', verbose: args.verbose, format: args.logFormat }) },
      )
    : null;
  const shutdown = async (): Promise<void> => {
    log.info('shutting down');
    await worker?.stop();
    await server.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

/**
 * The embedded worker's id, one per server home: a worker removes the leftover containers that
 * carry its own id when it starts, so two instances on one machine (two users' local instances)
 * must never share one.
 */
function embeddedWorkerId(home: string): string {
  return `local-${createHash('sha256').update(home).digest('hex').slice(0, 12)}`;
}
