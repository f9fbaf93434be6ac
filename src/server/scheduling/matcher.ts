// The scheduler's core: a pure function from staged runs and worker snapshots to assignments,
// and, for every run left waiting, the reason in words with numbers ("needs 2 GPUs; best worker
// has 1 free"). No I/O, no clock. Free resources only shrink during a pass, so a kind of run that
// found no worker once finds none for the rest of the pass: that is what keeps a pass fast.
import { formatSize } from '../../common/sizes.js';
import type { RunResources } from '../../protocol/index.js';
import { parallelRunQuotaReason } from '../quotas/quota-rules.js';
import { explainWaiting, WaitingExplainer } from './explain-waiting.js';
import { canUse, fits, plural, usersOf } from './worker-predicates.js';
import { bestFitIn, compareFit, PassPools, rankOfWorker, type Pool, type Slot } from './worker-pools.js';
import { addToList } from '../../common/lists-by-key.js';

export { explainWaiting };

export interface StagedRun {
  uuid: string;
  owner_id: string;
  resources: RunResources;
  queue: string | null;
  /** Parent keys `uuid:path`, for preferring workers that already cache them. */
  dependency_keys: string[];
  /**
   * Bytes of each dependency key, so that workers holding more of the run's bytes come first.
   * A key without a size counts as the smallest (see dependencyWeight).
   */
  dependency_sizes?: ReadonlyMap<string, number>;
  /** `--request-priority`; higher runs first among one user's runs (default 0). */
  priority?: number;
}

export interface WorkerSnapshot {
  key: string;
  /** The worker id as users see it in `cl workers` (default: the key). */
  name?: string;
  owner_id: string;
  owner_is_root: boolean;
  tag: string | null;
  tag_exclusive: boolean;
  /** What the worker has in all; defaults to the free figures when unknown. */
  total_cpus?: number;
  total_gpus?: number;
  total_memory?: number;
  free_cpus: number;
  free_gpus: number;
  free_memory: number;
  free_disk: number;
  free_slots: number;
  runs_left: number | null;
  docker_ok: boolean;
  /** Users besides the owner whose runs this private worker takes: the members of its `--group`. */
  group_member_ids?: ReadonlySet<string>;
  /** It reported GPUs before and reports none now (a driver or detection failure). */
  gpus_lost?: boolean;
  cached_dependencies: ReadonlySet<string>;
}

export interface MatchResult {
  assignments: { uuid: string; worker_key: string }[];
  /** Why each run that was not placed is waiting. */
  waiting: Map<string, string>;
}

/**
 * Owners with a parallel-run quota: how many of their runs shared workers hold now, and the most
 * they may. Owners not listed (root) have no limit. Runs on the owner's own workers never count.
 */
export type SharedRunQuotas = ReadonlyMap<string, { running: number; quota: number }>;

/** Why `worker` cannot take `run`, or null when it fits. */
export function rejectionReason(run: StagedRun, worker: WorkerSnapshot): string | null {
  if (!canUse(run, worker)) return 'worker belongs to another user';
  if (run.queue !== null && worker.tag !== run.queue) return `no worker serves queue ${run.queue}`;
  if (run.queue === null && worker.tag_exclusive) return 'worker only takes runs for its tag';
  if (!worker.docker_ok) return 'worker cannot reach Docker';
  if (worker.runs_left === 0) return 'worker accepts no more runs';
  if (worker.free_slots < 1) return 'worker has no free slot';
  const r = run.resources;
  if (worker.free_cpus < r.cpus) return `needs ${plural(r.cpus, 'CPU')}; worker has ${worker.free_cpus} free`;
  if (worker.free_gpus < r.gpus) return `needs ${plural(r.gpus, 'GPU')}; worker has ${worker.free_gpus} free`;
  if (worker.free_memory < r.memory) {
    return `needs ${formatSize(r.memory)} memory; worker has ${formatSize(worker.free_memory)} free`;
  }
  if (r.disk > 0 && worker.free_disk < r.disk) {
    return `needs ${formatSize(r.disk)} disk; worker has ${formatSize(worker.free_disk)} free`;
  }
  if (worker.free_disk <= 0) return "worker's disk is full";
  return null;
}

/**
 * Runs that agree on this key are placeable on exactly the same workers. The owner matters only
 * for owners who have workers of their own; everyone else sees the same shared workers.
 */
function feasibilityKey(run: StagedRun, owner: string, requestKey: string): string {
  return `${owner}\u0000${run.queue ?? ''}\u0000${requestKey}`;
}

/** What a worker must have free for the run: runs with equal keys fit the same workers of a class. */
function requestKeyOf(run: StagedRun): string {
  const r = run.resources;
  return `${r.cpus}\u0000${r.gpus}\u0000${r.memory}\u0000${r.disk}`;
}

/**
 * A cached dependency counts its bytes, plus one: a dependency of unknown size (a sub-path) still
 * counts for a little, and with no sizes known the worker caching more dependencies comes first.
 */
function dependencyWeight(run: StagedRun, key: string): number {
  return 1 + (run.dependency_sizes?.get(key) ?? 0);
}

/**
 * Sets each slot's `warmth` to the run's dependency bytes it caches, from an index of who caches
 * what (so ranking never hashes keys per worker); returns the warm slots, each once. coolDown undoes it.
 */
function warmUp(run: StagedRun, holders: ReadonlyMap<string, Slot[]>): Slot[] {
  const warm: Slot[] = [];
  for (const key of run.dependency_keys) {
    const list = holders.get(key);
    if (list === undefined) continue;
    const weight = dependencyWeight(run, key);
    for (const slot of list) {
      if (slot.warmth === 0) warm.push(slot);
      slot.warmth += weight;
    }
  }
  return warm;
}

function coolDown(warm: readonly Slot[]): void {
  for (const slot of warm) slot.warmth = 0;
}

function holdersOf(slots: readonly Slot[]): Map<string, Slot[]> {
  const holders = new Map<string, Slot[]>();
  for (const slot of slots) {
    for (const key of slot.worker.cached_dependencies) {
      addToList(holders, key, slot);
    }
  }
  return holders;
}

interface Candidate {
  slot: Slot;
  rank: number;
}

/** Best first: rank (rankOf), then cached dependency bytes, then best fit (compareFit). */
function isBetter(a: Candidate, b: Candidate | null): boolean {
  if (b === null) return true;
  if (a.rank !== b.rank) return a.rank > b.rank;
  if (a.slot.warmth !== b.slot.warmth) return a.slot.warmth > b.slot.warmth;
  return compareFit(a.slot, b.slot) < 0;
}

/**
 * The best worker in `pools` for the run. A worker caching some of its dependencies can only be
 * found among the few that cache them; any other can only win as the best fit of its class, the
 * first with room in the class's sorted list. So the search looks at the warm workers, then at
 * one worker per class, best rank first, and stops at a rank below what it has.
 */
function bestWorker(run: StagedRun, requestKey: string, pools: readonly Pool[], warm: readonly Slot[], takesShared: boolean): Slot | null {
  let best: Candidate | null = null;
  for (const slot of warm) {
    if (!fits(run, slot.worker) || (!takesShared && slot.worker.owner_is_root)) continue;
    const candidate = { slot, rank: rankOfWorker(run, slot.worker) };
    if (isBetter(candidate, best)) best = candidate;
  }
  const classes = pools.length === 1 ? (pools[0] as Pool).classesFor(run) : pools.flatMap((p) => p.classesFor(run)).sort((a, b) => b.rank - a.rank);
  for (const { cls, rank } of classes) {
    if (best !== null && rank < best.rank) break;
    const slot = bestFitIn(run, requestKey, cls);
    if (slot === null) continue;
    const candidate = { slot, rank };
    if (isBetter(candidate, best)) best = candidate;
  }
  return best?.slot ?? null;
}

/** Places `runs` in the order given (see orderStagedRuns) on copies of `workers`. */
export function matchRuns(runs: readonly StagedRun[], workers: readonly WorkerSnapshot[], quotas: SharedRunQuotas = new Map()): MatchResult {
  const all = workers.map((w) => ({ ...w }));
  const sharedRuns = new Map([...quotas].map(([owner, q]) => [owner, q.running]));
  /** Whether the owner has reached their parallel-run quota; counts grow as this pass places runs. */
  const atQuota = (owner: string): boolean => {
    const q = quotas.get(owner);
    return q !== undefined && (sharedRuns.get(owner) ?? 0) >= q.quota;
  };
  const pools = new PassPools(all);
  const explainer = new WaitingExplainer(all);
  // Owners with private workers, open or not: their explanations count those workers too.
  const privateOwners = new Set(all.filter((w) => !w.owner_is_root).flatMap(usersOf));
  const holders = holdersOf(pools.open);
  const assignments: MatchResult['assignments'] = [];
  const waiting = new Map<string, string>();
  const unplaceable = new Map<string, string>();
  for (const run of runs) {
    const mine = pools.private.get(run.owner_id);
    const limited = atQuota(run.owner_id);
    if (limited && mine === undefined) {
      waiting.set(run.uuid, quotaWaiting(sharedRuns.get(run.owner_id) ?? 0));
      continue;
    }
    const requestKey = requestKeyOf(run);
    const key = feasibilityKey(run, privateOwners.has(run.owner_id) ? run.owner_id : '', requestKey);
    const known = unplaceable.get(key);
    if (known !== undefined) {
      waiting.set(run.uuid, known);
      continue;
    }
    const candidatePools = limited ? [] : [pools.shared];
    if (mine !== undefined) candidatePools.push(mine);
    const warm = warmUp(run, holders);
    const slot = bestWorker(run, requestKey, candidatePools, warm, !limited);
    coolDown(warm);
    if (slot === null && limited) {
      // Not cached as unplaceable: the owner's own workers may free up, and the reason is the quota.
      waiting.set(run.uuid, quotaWaiting(sharedRuns.get(run.owner_id) ?? 0));
      continue;
    }
    if (slot === null) {
      const reason = explainer.explain(run);
      unplaceable.set(key, reason);
      waiting.set(run.uuid, reason);
      continue;
    }
    pools.place(run, slot);
    explainer.placed(slot.worker, run);
    const worker = slot.worker;
    if (worker.owner_is_root && quotas.has(run.owner_id)) sharedRuns.set(run.owner_id, (sharedRuns.get(run.owner_id) ?? 0) + 1);
    assignments.push({ uuid: run.uuid, worker_key: worker.key });
  }
  return { assignments, waiting };
}

function quotaWaiting(running: number): string {
  return `Waiting: ${parallelRunQuotaReason(running)}.`;
}
