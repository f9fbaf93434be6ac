// The scheduler's core: a pure function from staged runs and worker snapshots to assignments,
// and, for every run left waiting, the reason in words with numbers ("needs 2 GPUs; best worker
// has 1 free"). No I/O, no clock. Free resources only shrink during a pass, so a kind of run that
// found no worker once finds none for the rest of the pass: that is what keeps a pass fast.
import { formatSize } from '../../common/sizes.js';
import type { RunResources } from '../../protocol/index.js';
import { parallelRunQuotaReason } from '../quotas/quota-rules.js';
import { explainWaiting, WaitingExplainer } from './explain-waiting.js';
import { canUse, fits, isOpen, plural, usersOf } from './worker-predicates.js';
import { bestFitIn, compareFit, PassPools, rankOfSlot, type Pool, type RankedClass, type Slot } from './worker-pools.js';
import { RunKinds } from './run-kinds.js';
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
 * A cached dependency counts its bytes, plus one: a dependency of unknown size (a sub-path) still
 * counts for a little, and with no sizes known the worker caching more dependencies comes first.
 */
function dependencyWeight(run: StagedRun, key: string): number {
  return 1 + (run.dependency_sizes?.get(key) ?? 0);
}

/**
 * Puts in `warm` (the pass's scratch list, emptied first) each worker that caches some of the
 * run's dependencies and could take it (`takesShared`: shared workers too), once, with its
 * `warmth` set to the dependency bytes it caches; coolDown undoes it. The index of who caches what
 * spares hashing keys per worker. A worker that cannot take the run needs no warmth: ranking
 * only ever compares workers that can. Workers that filled up leave the index for the rest of
 * the pass.
 */
function warmUp(run: StagedRun, holders: ReadonlyMap<string, Slot[]>, takesShared: boolean, warm: Slot[]): void {
  warm.length = 0;
  for (const key of run.dependency_keys) {
    const list = holders.get(key);
    if (list === undefined) continue;
    const weight = dependencyWeight(run, key);
    let kept = 0;
    for (const slot of list) {
      const w = slot.worker;
      if (!isOpen(w)) continue;
      list[kept] = slot;
      kept += 1;
      if (!fits(run, w) || (!takesShared && w.owner_is_root)) continue;
      if (slot.warmth === 0) warm.push(slot);
      slot.warmth += weight;
    }
    list.length = kept;
  }
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

/** Best first: rank (rankOf), then cached dependency bytes, then best fit (compareFit). */
function isBetter(slot: Slot, rank: number, best: Slot | null, bestRank: number): boolean {
  if (best === null) return true;
  if (rank !== bestRank) return rank > bestRank;
  if (slot.warmth !== best.warmth) return slot.warmth > best.warmth;
  return compareFit(slot, best) < 0;
}

const NO_CLASSES: readonly RankedClass[] = [];

/**
 * The best worker for the run in the shared pool (null: the run may not use it) and the owner's
 * private one. A worker caching some of its dependencies can only be found among the few that
 * cache them; any other can only win as the best fit of its class, the first with room in the
 * class's sorted list. So the search looks at the warm workers, then at one worker per class,
 * best rank first (the two pools' lists merged, shared first among equals), and stops at a rank
 * below what it has. `warm`: the warm workers that can take the run (warmUp).
 */
function bestWorker(run: StagedRun, requestId: number, shared: Pool | null, mine: Pool | undefined, warm: readonly Slot[]): Slot | null {
  let best: Slot | null = null;
  let bestRank = -1;
  for (const slot of warm) {
    const rank = rankOfSlot(run, slot);
    if (isBetter(slot, rank, best, bestRank)) {
      best = slot;
      bestRank = rank;
    }
  }
  const a = shared?.classesFor(run) ?? NO_CLASSES;
  const b = mine?.classesFor(run) ?? NO_CLASSES;
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const next = (j >= b.length || (i < a.length && (a[i] as RankedClass).rank >= (b[j] as RankedClass).rank) ? a[i++] : b[j++]) as RankedClass;
    if (next.cls.slots.length === 0) continue;
    if (best !== null && next.rank < bestRank) break;
    const slot = bestFitIn(run, requestId, next.cls);
    if (slot !== null && isBetter(slot, next.rank, best, bestRank)) {
      best = slot;
      bestRank = next.rank;
    }
  }
  return best;
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
  const kinds = new RunKinds();
  const warm: Slot[] = [];
  const assignments: MatchResult['assignments'] = [];
  const waiting = new Map<string, string>();
  for (const run of runs) {
    const mine = pools.private.get(run.owner_id);
    const limited = atQuota(run.owner_id);
    if (limited && mine === undefined) {
      waiting.set(run.uuid, quotaWaiting(sharedRuns.get(run.owner_id) ?? 0));
      continue;
    }
    const kind = kinds.of(run, privateOwners.has(run.owner_id) ? run.owner_id : null);
    if (kind.reason !== undefined) {
      waiting.set(run.uuid, kind.reason);
      continue;
    }
    warmUp(run, holders, !limited, warm);
    const slot = bestWorker(run, kind.requestId, limited ? null : pools.shared, mine, warm);
    coolDown(warm);
    if (slot === null && limited) {
      // Not cached as unplaceable: the owner's own workers may free up, and the reason is the quota.
      waiting.set(run.uuid, quotaWaiting(sharedRuns.get(run.owner_id) ?? 0));
      continue;
    }
    if (slot === null) {
      kind.reason = explainer.explain(run);
      waiting.set(run.uuid, kind.reason);
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
