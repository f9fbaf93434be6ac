// The order in which staged runs are offered to workers. Pure. Within one user, higher
// `--request-priority` first, then older first. Across users, fair share: each user's next run
// is placed after as many runs as that user already holds on workers, so a user who submitted
// thousands of runs first cannot starve one who submitted a single run later.
import type { StagedRun } from './matcher.js';
import { addToList } from '../../common/lists-by-key.js';

/**
 * `runs` must come oldest first; `active` counts each owner's runs already on workers (starting
 * to finalizing). Returns a new array; ties keep creation order.
 */
export function orderStagedRuns(runs: readonly StagedRun[], active: ReadonlyMap<string, number>): StagedRun[] {
  const byOwner = new Map<string, { run: StagedRun; index: number }[]>();
  runs.forEach((run, index) => {
    addToList(byOwner, run.owner_id, { run, index });
  });
  const placed: { run: StagedRun; index: number; turn: number }[] = [];
  for (const [owner, list] of byOwner) {
    list.sort((a, b) => (b.run.priority ?? 0) - (a.run.priority ?? 0) || a.index - b.index);
    const held = active.get(owner) ?? 0;
    list.forEach((entry, rank) => placed.push({ ...entry, turn: held + rank }));
  }
  placed.sort((a, b) => a.turn - b.turn || a.index - b.index);
  return placed.map((p) => p.run);
}
