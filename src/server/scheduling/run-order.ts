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
  const turns = turnsOf(runs, active);
  const n = runs.length;
  // Each run's (turn, index) packed into one number, so that a plain numeric sort orders them
  // without a comparator: a pass orders thousands of runs, and comparator calls were most of it.
  let largest = 0;
  let packable = true;
  for (let i = 0; i < n; i += 1) {
    const turn = turns[i] as number;
    if (!Number.isInteger(turn) || turn < 0) packable = false;
    largest = Math.max(largest, turn);
  }
  if (!packable || !Number.isSafeInteger((largest + 1) * n)) return orderByComparator(runs, turns);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i += 1) keys[i] = (turns[i] as number) * n + i;
  keys.sort();
  const ordered = new Array<StagedRun>(n);
  for (let i = 0; i < n; i += 1) ordered[i] = runs[(keys[i] as number) % n] as StagedRun;
  return ordered;
}

/** Each run's turn (by input position): its owner's runs already held, plus its rank among the owner's staged runs. */
function turnsOf(runs: readonly StagedRun[], active: ReadonlyMap<string, number>): number[] {
  const byOwner = new Map<string, number[]>();
  for (let i = 0; i < runs.length; i += 1) addToList(byOwner, (runs[i] as StagedRun).owner_id, i);
  const turns = new Array<number>(runs.length);
  for (const [owner, indices] of byOwner) {
    const priorityOf = (i: number): number => (runs[i] as StagedRun).priority ?? 0;
    // The sort is stable and the indices ascend, so equal priorities keep creation order.
    if (indices.some((i) => priorityOf(i) !== priorityOf(indices[0] as number))) indices.sort((a, b) => priorityOf(b) - priorityOf(a));
    const held = active.get(owner) ?? 0;
    indices.forEach((index, rank) => {
      turns[index] = held + rank;
    });
  }
  return turns;
}

/** The same order where turns do not pack with the index (a count too large, or not a count). */
function orderByComparator(runs: readonly StagedRun[], turns: readonly number[]): StagedRun[] {
  const indices = runs.map((_, i) => i);
  indices.sort((a, b) => (turns[a] as number) - (turns[b] as number) || a - b);
  return indices.map((i) => runs[i] as StagedRun);
}
