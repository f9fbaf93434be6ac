// Parses `cl-server` flags and environment into a frozen ServerConfig (the only place that reads them).
import { Command, InvalidArgumentError } from 'commander';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { SERVER_DEFAULTS, type ServerConfig } from '../server/config.js';

export interface ServerArgs {
  config: ServerConfig;
  withWorker: boolean;
  verbose: boolean;
}

function positiveNumber(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new InvalidArgumentError(`expected a non-negative number, got '${text}'`);
  return value;
}

export function parseServerArgs(argv: string[], env: NodeJS.ProcessEnv): ServerArgs {
  const codalabHome = env.CODALAB_HOME ?? join(homedir(), '.codalab');
  const program = new Command('cl-server')
    .description('Runs the server: REST API, bundle store, database and scheduler.')
    .option('--home <dir>', 'database and bundle store', join(codalabHome, 'server'))
    .option('--host <host>', 'address to listen on', SERVER_DEFAULTS.host)
    .option('--port <port>', 'port to listen on; 0 picks a free one', positiveNumber, SERVER_DEFAULTS.port)
    .option('--database-url <url>', 'SQLite file (default: <home>/codalab.sqlite)')
    .option('--default-cpu-image <image>', 'image for runs that name none', SERVER_DEFAULTS.defaultCpuImage)
    .option('--default-gpu-image <image>', 'image for GPU runs that name none', SERVER_DEFAULTS.defaultGpuImage)
    .option('--worker-timeout-seconds <s>', 'a worker silent this long is offline', positiveNumber, SERVER_DEFAULTS.workerTimeoutSeconds)
    .option('--token-ttl-seconds <s>', 'lifetime of access tokens', positiveNumber, SERVER_DEFAULTS.tokenTtlSeconds)
    .option('--with-worker', 'also run a worker in this process (the local instance)', false)
    .option('--verbose', 'log more', false)
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  program.parse(argv, { from: 'user' });
  const o = program.opts<{
    home: string; host: string; port: number; databaseUrl?: string; defaultCpuImage: string; defaultGpuImage: string;
    workerTimeoutSeconds: number; tokenTtlSeconds: number; withWorker: boolean; verbose: boolean;
  }>();
  const home = resolve(o.home);
  const databaseUrl = o.databaseUrl ?? join(home, 'codalab.sqlite');
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new InvalidArgumentError('PostgreSQL is not supported yet; omit --database-url to use SQLite.');
  }
  const config: ServerConfig = Object.freeze({
    ...SERVER_DEFAULTS,
    home,
    host: o.host,
    port: o.port,
    databaseUrl: isAbsolute(databaseUrl) ? databaseUrl : resolve(databaseUrl),
    defaultCpuImage: o.defaultCpuImage,
    defaultGpuImage: o.defaultGpuImage,
    rootPassword: env.CODALAB_ROOT_PASSWORD ?? null,
    tokenTtlSeconds: o.tokenTtlSeconds,
    workerTimeoutSeconds: o.workerTimeoutSeconds,
  });
  return { config, withWorker: o.withWorker, verbose: o.verbose };
}
