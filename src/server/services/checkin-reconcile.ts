// The one reconcile rule (STYLE habit 13): at every check-in, the runs the server believes a worker
// holds are compared with those it reports (or is taking on); each one it no longer has is
// resolved here, with a message, instead of waiting for a report that will never come.
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/log.js';
import { HELD_STATES, type BundleState, type Metadata, type WorkerCheckin } from '../../protocol/index.js';
import { restagedRun } from '../scheduling/state-bounds.js';
import type { Store } from '../store/store.js';

/**
 * A run changed this recently is left alone: a worker builds its check-in body before sending it,
 * so a run it started in the last seconds (its start accepted after the body was built) may be
 * missing from a check-in that arrives now. The next check-in settles it.
 */
export const RECONCILE_GRACE_MS = 10_000;

export type MissingRunDecision =
  | { kind: 'wait' }
  | { kind: 'restage'; staged_status: string }
  | { kind: 'fail'; failure_message: string };

/** What becomes of a run the server assigned to `workerId` that its check-in no longer names. */
export function decideMissingRun(
  run: { state: BundleState; last_updated: number; metadata: Metadata },
  workerId: string,
  now: number,
): MissingRunDecision {
  if (now - run.last_updated < RECONCILE_GRACE_MS) return { kind: 'wait' };
  // A container was started once the worker reported an image digest; before that, the run never
  // ran anywhere and may simply run elsewhere.
  const neverStarted = run.state === 'preparing' || (run.state === 'worker_offline' && typeof run.metadata.docker_image !== 'string');
  if (neverStarted) return { kind: 'restage', staged_status: `Worker ${workerId} restarted before starting this run; staged again.` };
  return { kind: 'fail', failure_message: `Worker ${workerId} restarted and no longer has this run.` };
}

/**
 * Resolves every run held by the worker that `body` neither reports nor lists as pending; call it
 * after the reports were applied (a run adopted from another worker id is then this worker's).
 * Returns how many runs it resolved.
 */
export async function reconcileCheckin(
  store: Store,
  clock: Clock,
  log: Logger,
  worker: { owner_id: string; id: string },
  body: WorkerCheckin,
): Promise<number> {
  const named = new Set([...body.runs, ...(body.pending_runs ?? [])].map((r) => `${r.uuid}:${r.assignment_id}`));
  let resolved = 0;
  for (const run of await store.listBundlesOfWorker(worker.owner_id, worker.id, HELD_STATES)) {
    if (named.has(`${run.uuid}:${run.assignment_id ?? ''}`)) continue;
    const now = clock.now();
    const decision = decideMissingRun(run, worker.id, now);
    if (decision.kind === 'wait') continue;
    const guard = { states: [run.state], assignment_id: run.assignment_id ?? '', worker };
    const change = decision.kind === 'restage'
      ? restagedRun(decision.staged_status, run.kill_requested, now)
      : { state: 'failed' as const, kill_requested: false, last_updated: now, metadata: { failure_message: decision.failure_message, run_status: null } };
    if (await store.updateBundle(run.uuid, change, guard)) {
      const message = decision.kind === 'restage' ? decision.staged_status : decision.failure_message;
      log.child({ worker: worker.id, run: run.uuid, assignment: run.assignment_id ?? undefined }).warn(`reconciled a run missing from the check-in: ${message}`);
      resolved += 1;
    }
  }
  return resolved;
}
