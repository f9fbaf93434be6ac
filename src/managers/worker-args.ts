// The cl-worker command line of a worker the manager starts. Pure; each backend adds the work
// dir it mounts and passes the credentials its own way (environment, Secret, password file).
import type { WorkerStart } from './decide-workers.js';

export interface WorkerArgsOptions {
  serverUrl: string;
  /** Runs of this queue only (`--tag Q --tag-exclusive`), so the worker serves what it was started for. */
  queue: string | null;
  idleSeconds: number;
  exitAfterNumRuns: number | null;
}

export function workerArgs(id: string, start: WorkerStart, o: WorkerArgsOptions): string[] {
  const args = ['--server', o.serverUrl, '--id', id, '--max-memory', String(start.shape.memoryBytes), '--pass-down-termination'];
  if (o.queue !== null) args.push('--tag', o.queue, '--tag-exclusive');
  // Without GPUs asked for, the worker need not probe for them (nvidia-smi may be absent).
  if (start.shape.gpus === 0) args.push('--gpuset', 'NONE');
  if (start.exitWhenIdle) args.push('--exit-when-idle', '--idle-seconds', String(o.idleSeconds));
  if (o.exitAfterNumRuns !== null) args.push('--exit-after-num-runs', String(o.exitAfterNumRuns));
  return args;
}
