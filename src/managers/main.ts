// `cl-worker-manager BACKEND [flags]`: parses flags and environment once, builds the backend and
// the loop, and stops on SIGINT or SIGTERM (the workers it started run on and are found again by
// label on the next start). The only manager module that reads process.env or sets the exit status.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../common/clock.js';
import { errorMessage } from '../common/error-message.js';
import { createLogger } from '../common/log.js';
import { UsageError } from '../common/usage-error.js';
import { UserInputError } from '../common/user-input-error.js';
import { parseManagerArgs, type BackendConfig } from './config.js';
import { DockerWorkerBackend } from './docker/docker-backend.js';
import { KubernetesWorkerBackend } from './kubernetes/kubernetes-backend.js';
import { WorkerManagerLoop } from './manager-loop.js';
import { ManagerServerClient } from './server-client.js';
import { SlurmBatchClient } from './slurm/slurm-batch-client.js';
import { slurmCommandEnv, SlurmWorkerBackend } from './slurm/slurm-backend.js';
import type { WorkerBackend } from './worker-backend.js';

/** This checkout's root: main.js lives in dist/managers (or src/managers under a test runner). */
const CODALAB_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

function createBackend(config: BackendConfig, managerName: string): WorkerBackend {
  switch (config.kind) {
    case 'docker':
      return new DockerWorkerBackend(config, managerName);
    case 'kubernetes':
      return new KubernetesWorkerBackend(config, managerName);
    case 'slurm-batch':
      // Slurm's commands read SLURM_CONF and PATH from the environment, and sbatch copies it into each job.
      return new SlurmWorkerBackend(config, managerName, new SlurmBatchClient({ env: slurmCommandEnv(process.env) }), systemClock);
  }
}

export async function main(argv: string[]): Promise<void> {
  let parsed;
  try {
    parsed = parseManagerArgs(argv, process.env, {
      cwd: process.cwd(),
      nodeBinary: process.execPath,
      codalabRoot: CODALAB_ROOT,
      homeDir: os.homedir(),
      readText: (file) => readFileSync(file, 'utf8'),
    });
  } catch (error) {
    process.stderr.write(`cl-worker-manager: ${error instanceof UserInputError ? error.message : errorMessage(error)}\n`);
    process.exitCode = error instanceof UsageError ? 2 : 1;
    return;
  }
  if (parsed.kind === 'help') {
    process.stdout.write(parsed.text);
    return;
  }
  const config = parsed.config;
  const log = createLogger({ program: 'cl-worker-manager', verbose: config.verbose, format: config.logFormat });
  const server = new ManagerServerClient({ serverUrl: config.serverUrl, credentials: config.credentials });
  const loop = new WorkerManagerLoop(server, createBackend(config.backend, config.name), systemClock, log, {
    name: config.name,
    policy: config.policy,
    workerArgs: { serverUrl: config.serverUrl, queue: config.policy.queue, idleSeconds: config.idleSeconds, exitAfterNumRuns: config.exitAfterNumRuns },
    credentials: config.credentials,
    sleepSeconds: config.sleepSeconds,
  });
  const stopping = new AbortController();
  const onSignal = (name: NodeJS.Signals): void => {
    log.info(`${name}: stopping; the workers started keep running and are found again on the next start`);
    stopping.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  log.info(`managing ${config.backend.kind} workers for ${config.serverUrl} as ${config.credentials.username}`);
  try {
    await loop.run(stopping.signal);
  } catch (error) {
    log.error(`stopping: ${errorMessage(error)}`);
    process.exitCode = 1;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
