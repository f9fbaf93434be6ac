// Containers of a worker that no run of it owns: left by a run whose record was lost, or by a
// clean-up that failed. They are removed once older than a grace period, so a container made for
// a run that is just being taken on is never mistaken for one. Containers labelled with another
// work dir belong to a namesake worker (of another server) on this machine and are left alone;
// ones with this worker's id and no work-dir label predate that label and are this worker's.
import type { Logger } from '../../common/log.js';
import { RUN_LABEL, WORK_DIR_LABEL, WORKER_LABEL, type ContainerRuntime } from './container-runtime.js';

export const ORPHAN_GRACE_MS = 60_000;

export interface OrphanSweep {
  runtime: ContainerRuntime;
  runsDir: string;
  workerId: string;
  /** True for a run the worker holds or is taking on. */
  owns(runUuid: string): boolean;
  now: number;
  log: Logger;
}

/** Removes the orphans; throws when the engine cannot be asked (the caller tries again later). */
export async function sweepOrphanContainers(sweep: OrphanSweep): Promise<void> {
  const { runtime } = sweep;
  const found = [
    ...(await runtime.listContainers({ [WORK_DIR_LABEL]: sweep.runsDir })),
    ...(await runtime.listContainers({ [WORKER_LABEL]: sweep.workerId })).filter((c) => c.labels[WORK_DIR_LABEL] === undefined),
  ];
  for (const c of found) {
    const run = c.labels[RUN_LABEL];
    if (run !== undefined && sweep.owns(run)) continue;
    if (sweep.now - c.createdAt < ORPHAN_GRACE_MS) continue;
    sweep.log.info(`Removing container ${c.id.slice(0, 12)}, which no run of this worker owns`, { run });
    await runtime.removeContainer(c.id);
  }
}
