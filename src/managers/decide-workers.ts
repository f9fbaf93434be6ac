// The worker manager's decision, pure (no I/O, no clock of its own): from the staged runs the
// server reports and the workers this manager started, which workers to start (and of which
// shape) and which to give up on. The loop in manager-loop.ts does the I/O around it.
//
// Glossary: a *managed worker* is a job this manager started through its backend (a container,
// a pod, a batch job). It is *pending* until the server lists a worker of that id online, then
// *alive*. A run *needs a worker* once the scheduler has said why none of the connected ones can
// take it (its waiting reason), and it matches this manager's queue and users.
import { formatSize } from '../common/sizes.js';
import type { StagedRunInfo } from '../protocol/index.js';

export interface WorkerShape {
  cpus: number;
  gpus: number;
  memoryBytes: number;
}

export interface ManagedWorker {
  id: string;
  phase: 'pending' | 'alive';
  /** Epoch milliseconds when the backend started it. */
  startedAt: number;
}

export interface ScalingPolicy {
  minWorkers: number;
  maxWorkers: number;
  /** Only runs of this queue (`--queue`); null = only runs that name no queue. */
  queue: string | null;
  /** Only runs of these owners (`--user`); null = every owner the server shows. */
  users: readonly string[] | null;
  /** The smallest worker started; a run asking more gets a worker of its size. */
  baseShape: WorkerShape;
  /** The largest worker this backend may start; a run asking more is left to others. null = no cap. */
  maxShape: { cpus: number | null; gpus: number | null; memoryBytes: number | null };
  /** A worker still pending after this long is given up on (removed). */
  pendingTimeoutMs: number;
}

export interface WorkerStart {
  shape: WorkerShape;
  /** Workers started for --min-workers do not exit when idle; workers started for runs do. */
  exitWhenIdle: boolean;
  /** Why, for the log: the run it is for, or the floor. */
  reason: string;
}

export interface ScalingDecision {
  start: WorkerStart[];
  remove: { id: string; reason: string }[];
  /** Runs this manager will never serve, and why (for the log). */
  unservable: { uuid: string; reason: string }[];
  /** Why no more workers were started although runs need them; null when none was held back. */
  heldBack: string | null;
}

/** Whether `run` is one this manager serves and the scheduler found no worker for. */
export function needsWorker(run: StagedRunInfo, policy: ScalingPolicy): boolean {
  if (run.waiting_reason === null) return false;
  if (run.queue !== policy.queue) return false;
  return policy.users === null || policy.users.includes(run.owner_name);
}

/** The worker for `run`: the base shape grown to the run's requests; or why it exceeds the cap. */
export function shapeFor(run: StagedRunInfo, policy: ScalingPolicy): WorkerShape | string {
  const shape: WorkerShape = {
    cpus: Math.max(policy.baseShape.cpus, run.cpus),
    gpus: Math.max(policy.baseShape.gpus, run.gpus),
    memoryBytes: Math.max(policy.baseShape.memoryBytes, run.memory_bytes),
  };
  const cap = policy.maxShape;
  if (cap.cpus !== null && shape.cpus > cap.cpus) return `needs ${run.cpus} CPUs; workers here have at most ${cap.cpus} (--max-cpus)`;
  if (cap.gpus !== null && shape.gpus > cap.gpus) return `needs ${run.gpus} GPUs; workers here have at most ${cap.gpus} (--max-gpus)`;
  if (cap.memoryBytes !== null && shape.memoryBytes > cap.memoryBytes) {
    return `needs ${formatSize(run.memory_bytes)} memory; workers here have at most ${formatSize(cap.memoryBytes)} (--max-memory)`;
  }
  return shape;
}

export function decideWorkers(
  runs: readonly StagedRunInfo[],
  workers: readonly ManagedWorker[],
  policy: ScalingPolicy,
  now: number,
): ScalingDecision {
  const remove = workers
    .filter((w) => w.phase === 'pending' && now - w.startedAt > policy.pendingTimeoutMs)
    .map((w) => ({ id: w.id, reason: `did not check in within ${Math.round(policy.pendingTimeoutMs / 1000)} s` }));
  const removed = new Set(remove.map((r) => r.id));
  const kept = workers.filter((w) => !removed.has(w.id));
  const start: WorkerStart[] = [];
  for (let n = kept.length; n < policy.minWorkers && n < policy.maxWorkers; n++) {
    start.push({ shape: policy.baseShape, exitWhenIdle: false, reason: `--min-workers ${policy.minWorkers}` });
  }
  const unservable: ScalingDecision['unservable'] = [];
  const wanted: { uuid: string; shape: WorkerShape }[] = [];
  for (const run of runs) {
    if (!needsWorker(run, policy)) continue;
    const shape = shapeFor(run, policy);
    if (typeof shape === 'string') unservable.push({ uuid: run.uuid, reason: shape });
    else wanted.push({ uuid: run.uuid, shape });
  }
  const heldBack = holdBack(wanted.length, kept, start.length, policy);
  if (heldBack === null) {
    for (const run of wanted.slice(0, policy.maxWorkers - kept.length - start.length)) {
      start.push({ shape: run.shape, exitWhenIdle: true, reason: `run ${run.uuid}` });
    }
  }
  const startedForRuns = start.filter((s) => s.exitWhenIdle).length;
  const short = wanted.length - startedForRuns;
  return {
    start,
    remove,
    unservable,
    heldBack: heldBack ?? (short > 0 ? `${short} more run(s) need a worker; at --max-workers ${policy.maxWorkers}` : null),
  };
}

/**
 * Why no worker is started for runs this time, or null. While a worker of ours is pending, the
 * runs may be waiting for that very worker: starting more would start two for one run.
 */
function holdBack(wanted: number, workers: readonly ManagedWorker[], floorStarts: number, policy: ScalingPolicy): string | null {
  if (wanted === 0) return null;
  const pending = workers.filter((w) => w.phase === 'pending').length;
  if (pending > 0) return `${wanted} run(s) need a worker; waiting for ${pending} pending worker(s) to check in first`;
  if (floorStarts > 0) return `${wanted} run(s) need a worker; the --min-workers workers being started may take them`;
  if (workers.length >= policy.maxWorkers) return `${wanted} run(s) need a worker; at --max-workers ${policy.maxWorkers}`;
  return null;
}
