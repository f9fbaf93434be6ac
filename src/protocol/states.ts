// Bundle types and states: the names users and scripts see. No I/O.
// A state is final when nothing will ever change it again.
import { z } from 'zod';

export const BundleType = z.enum(['dataset', 'run', 'make']);
export type BundleType = z.infer<typeof BundleType>;

export const BundleState = z.enum([
  'created',
  'uploading',
  'staged',
  'making',
  'starting',
  'preparing',
  'running',
  'finalizing',
  'ready',
  'failed',
  'killed',
  'worker_offline',
]);
export type BundleState = z.infer<typeof BundleState>;

export const FINAL_STATES: readonly BundleState[] = ['ready', 'failed', 'killed'];

/** A worker has been given the run and has not finished it: what it is told about at check-in. */
export const ASSIGNED_STATES: readonly BundleState[] = ['starting', 'preparing', 'running', 'finalizing'];

/** States a worker's reports, uploads and finish may act on (including while it was silent). */
export const HELD_STATES: readonly BundleState[] = ['preparing', 'running', 'finalizing', 'worker_offline'];

/** Work is under way: such a bundle cannot be deleted until it ends or is killed. */
export const ACTIVE_STATES: readonly BundleState[] = ['making', ...ASSIGNED_STATES];

/** A kill ends these at once, on the server alone. */
export const KILLED_AT_ONCE_STATES: readonly BundleState[] = ['created', 'uploading', 'staged', 'making', 'starting', 'worker_offline'];

/** A kill of these goes through the worker that runs them. */
export const KILLED_BY_WORKER_STATES: readonly BundleState[] = ['preparing', 'running', 'finalizing'];

export function isFinalState(state: BundleState): boolean {
  return FINAL_STATES.includes(state);
}

/** States a worker may report for a run it holds. */
export const ReportedRunState = z.enum(['preparing', 'running', 'finalizing']);
export type ReportedRunState = z.infer<typeof ReportedRunState>;
