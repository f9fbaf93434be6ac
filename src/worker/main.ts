// `cl-worker`: parses flags and environment once, starts the worker, and stops it on SIGINT or
// SIGTERM. The only worker module that reads process.env or sets the exit status.
import os from 'node:os';
import { UsageError } from '../common/usage-error.js';
import { UserInputError } from '../common/user-input-error.js';
import { errorMessage } from '../common/error-message.js';
import { preferAtomicGarbageCollection } from '../common/gc-tuning.js';
import { parseWorkerArgs } from './config.js';
import { startWorker, type RunningWorker } from './index.js';
import { createLogger } from '../common/log.js';

export async function main(argv: string[]): Promise<void> {
  preferAtomicGarbageCollection();
  let parsed;
  try {
    parsed = parseWorkerArgs(argv, process.env, { cwd: process.cwd(), hostname: os.hostname(), cpuCount: os.cpus().length });
  } catch (error) {
    process.stderr.write(`cl-worker: ${error instanceof UserInputError ? error.message : errorMessage(error)}\n`);
    // 2 for a bad flag (the usage convention), 1 for missing credentials or an unreadable file.
    process.exitCode = error instanceof UsageError ? 2 : 1;
    return;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return;
  }
  const log = createLogger({ program: 'cl-worker', verbose: parsed.config.verbose, format: parsed.config.logFormat });
  const starting = new AbortController();
  let worker: RunningWorker | null = null;
  let signals = 0;
  const onSignal = (name: NodeJS.Signals): void => {
    signals += 1;
    if (signals > 1) {
      log.warn(`${name} again: exiting now; a worker started again on this work dir takes up the runs left behind.`);
      process.exit(1);
    }
    log.info(`${name}: stopping (send it again to exit at once)`);
    starting.abort();
    if (worker) void worker.stop();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    worker = await startWorker(parsed.config, { log, signal: starting.signal });
    await worker.done;
  } catch (error) {
    if (!starting.signal.aborted) {
      log.error(errorMessage(error));
      process.exitCode = 1;
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
