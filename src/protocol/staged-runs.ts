// Staged runs as a worker manager sees them (`GET /rest/runs/staged`): what each run asks for and
// why it waits, so the manager can decide which workers to start. Root sees every user's runs;
// anyone else sees only their own (a manager logged in as a user starts private workers).
import { z } from 'zod';
import { Uuid } from './bundles.js';

export const StagedRunInfo = z.object({
  uuid: Uuid,
  owner_name: z.string(),
  /** The queue the run asked for (`--request-queue`, without `tag=`), or null. */
  queue: z.string().nullable(),
  /** The requests with the server's defaults filled in. */
  cpus: z.number(),
  gpus: z.number(),
  memory_bytes: z.number(),
  disk_bytes: z.number(),
  docker_image: z.string(),
  /**
   * Why no current worker can take the run, as the scheduler last said; null while no scheduling
   * pass has looked at it since it was staged (a connected worker may still take it).
   */
  waiting_reason: z.string().nullable(),
  /** Epoch milliseconds of the run's last change. */
  last_updated: z.number(),
});
export type StagedRunInfo = z.infer<typeof StagedRunInfo>;

export const StagedRunsResponse = z.object({ runs: z.array(StagedRunInfo) });
export type StagedRunsResponse = z.infer<typeof StagedRunsResponse>;

/** Filters of `GET /rest/runs/staged`; a non-root caller may name only themselves as `user`. */
export const StagedRunsQuery = z.object({
  queue: z.string().min(1).optional(),
  user: z.string().min(1).optional(),
});
export type StagedRunsQuery = z.infer<typeof StagedRunsQuery>;
