// Bounds on every non-final state a bundle can wait in: a run whose worker does not start it, is
// stuck preparing or finalizing, or went silent past its lease; a dataset whose upload never came.
// Pure decisions of (bundle, what is known of its worker, now); the bundle manager does the I/O.
import { formatAge, formatTimeLimit } from '../../common/sizes.js';
import type { BundleState, Metadata } from '../../protocol/index.js';
import type { BundleChange } from '../store/store.js';

export interface StateBoundsOptions {
  workerTimeoutSeconds: number;
  workerLeaseSeconds: number;
  startingTimeoutSeconds: number;
  preparingTimeoutSeconds: number;
  finalizingTimeoutSeconds: number;
}

/** States of a run a worker was given and has not ended: each is bounded here. */
export const BOUNDED_RUN_STATES: readonly BundleState[] = ['starting', 'preparing', 'running', 'finalizing', 'worker_offline'];

export interface BoundedRun {
  state: BundleState;
  state_since: number;
  last_updated: number;
  worker_id: string | null;
  metadata: Metadata;
}

export type RunBoundsDecision =
  | { kind: 'keep' }
  | { kind: 'restage'; staged_status: string }
  /** Enter worker_offline, or refresh its run_status when the figure shown changed. */
  | { kind: 'offline'; run_status: string }
  | { kind: 'fail'; failure_message: string };

/**
 * What to do with a run held by a worker; `lastHeard` is the worker's last check-in (null when the
 * server knows no such worker: then the run's own last update stands in for it).
 */
export function decideRunBounds(run: BoundedRun, lastHeard: number | null, now: number, o: StateBoundsOptions): RunBoundsDecision {
  const worker = run.worker_id ?? '(unknown)';
  const silentSeconds = (now - (lastHeard ?? run.last_updated)) / 1000;
  const silent = silentSeconds > o.workerTimeoutSeconds;
  const inStateSeconds = (now - run.state_since) / 1000;
  switch (run.state) {
    case 'starting':
      if (silent) return { kind: 'restage', staged_status: `Worker ${worker} went offline before starting this run; staged again.` };
      if (inStateSeconds > o.startingTimeoutSeconds) {
        return { kind: 'restage', staged_status: `Worker ${worker} did not start the run within ${formatTimeLimit(o.startingTimeoutSeconds)}; staged again.` };
      }
      return { kind: 'keep' };
    case 'preparing':
    case 'finalizing': {
      const [limit, flag] = run.state === 'preparing'
        ? [o.preparingTimeoutSeconds, '--preparing-timeout-seconds']
        : [o.finalizingTimeoutSeconds, '--finalizing-timeout-seconds'];
      if (inStateSeconds > limit) {
        return { kind: 'fail', failure_message: `Stuck in ${run.state} for ${formatTimeLimit(limit)} (${flag}); the worker was told to stop it.` };
      }
      return silent ? { kind: 'offline', run_status: offlineStatus(worker, silentSeconds) } : { kind: 'keep' };
    }
    case 'running':
      return silent ? { kind: 'offline', run_status: offlineStatus(worker, silentSeconds) } : { kind: 'keep' };
    case 'worker_offline': {
      if (silentSeconds > o.workerLeaseSeconds) {
        return {
          kind: 'fail',
          failure_message: `Worker ${worker} was last heard ${formatAge(silentSeconds)} ago; the run was given up after the lease of ${formatTimeLimit(o.workerLeaseSeconds)} (--worker-lease-seconds).`,
        };
      }
      // A worker back online either reports the run (which returns it to its state) or not, and
      // then the check-in's reconcile resolves it: nothing to do here.
      if (!silent) return { kind: 'keep' };
      const status = offlineStatus(worker, silentSeconds);
      return run.metadata.run_status === status ? { kind: 'keep' } : { kind: 'offline', run_status: status };
    }
    default:
      return { kind: 'keep' };
  }
}

function offlineStatus(worker: string, silentSeconds: number): string {
  return `Worker ${worker} stopped checking in; last heard ${formatAge(silentSeconds)} ago.`;
}

/**
 * The failure of a dataset still `uploading` with no upload arriving in this server process, once
 * it has waited `timeoutSeconds`; null while it may still come.
 */
export function decideUploadBound(lastUpdated: number, uploadInProgress: boolean, now: number, timeoutSeconds: number): string | null {
  if (uploadInProgress || now - lastUpdated <= timeoutSeconds * 1000) return null;
  return `No upload arrived within ${formatTimeLimit(timeoutSeconds)}; upload it again.`;
}

export const UPLOAD_INTERRUPTED_MESSAGE = 'Upload interrupted by a server restart; upload it again.';

/** Every note of a run staged again ends so (see restagedRun's callers). */
const RESTAGE_NOTE_END = '; staged again.';

/**
 * The staged_status that gives the scheduler's reason for waiting: a note saying why the run was
 * staged again stays in front of it, so `cl info` still tells what happened to the run.
 */
export function withRestageNote(previous: unknown, reason: string): string {
  const end = typeof previous === 'string' ? previous.indexOf(RESTAGE_NOTE_END) : -1;
  return end < 0 ? reason : `${(previous as string).slice(0, end + RESTAGE_NOTE_END.length)} ${reason}`;
}

/** The staged_status of a run just staged, before any scheduling pass has looked at it. */
export const FIRST_STAGED_STATUS = 'Waiting for a worker.';

/**
 * The scheduler's reason why a staged run waits, out of its staged_status; null while no pass has
 * given one since the run was staged (or staged again), so a worker that is connected may still
 * take it at the next pass.
 */
export function schedulerWaitingReason(stagedStatus: unknown): string | null {
  if (typeof stagedStatus !== 'string' || stagedStatus === FIRST_STAGED_STATUS) return null;
  if (stagedStatus.endsWith(RESTAGE_NOTE_END)) return null;
  return stagedStatus;
}

/**
 * The change that puts a run back to `staged` for another worker, saying why; what its last worker
 * reported about it is cleared. A run whose kill was requested meanwhile is killed instead.
 */
export function restagedRun(stagedStatus: string, killRequested: boolean, now: number): BundleChange {
  const cleared = { run_status: null, started: null, remote: null, docker_image: null };
  if (killRequested) {
    return { state: 'killed', kill_requested: false, last_updated: now, metadata: { ...cleared, failure_message: 'Kill requested' } };
  }
  return {
    state: 'staged',
    worker_owner_id: null,
    worker_id: null,
    assignment_id: null,
    last_updated: now,
    metadata: { ...cleared, staged_status: stagedStatus },
  };
}
