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

/** States in which a worker holds the run (or held it before going silent). */
export const WORKER_STATES: readonly BundleState[] = [
  'starting',
  'preparing',
  'running',
  'finalizing',
  'worker_offline',
];

export function isFinalState(state: BundleState): boolean {
  return FINAL_STATES.includes(state);
}

/** States a worker may report for a run it holds. */
export const ReportedRunState = z.enum(['preparing', 'running', 'finalizing']);
export type ReportedRunState = z.infer<typeof ReportedRunState>;
