// The scheduler's core: a pure function from staged runs and worker snapshots to assignments,
// and, for every run left waiting, the reason in words with numbers ("needs 2 GPUs; best worker
// has 1 free"). No I/O, no clock. Free resources only shrink during a pass, so a kind of run that
// found no worker once finds none for the rest of the pass: that is what keeps a pass fast.
import { formatSize } from '../../common/sizes.js';
import type { RunResources } from '../../protocol/index.js';
import { parallelRunQuotaReason } from '../quotas/quota-rules.js';

export interface StagedRun {
  uuid: string;
  owner_id: string;
  resources: RunResources;
  queue: string | null;
  /** Parent keys `uuid:path`, for preferring workers that already cache them. */
  dependency_keys: string[];
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

/** Whether the run's owner may use the worker at all: a shared (root) one, their own, or their group's. */
function canUse(run: StagedRun, worker: WorkerSnapshot): boolean {
  return worker.owner_is_root || worker.owner_id === run.owner_id || (worker.group_member_ids?.has(run.owner_id) ?? false);
}

/** Everyone whose runs a private worker takes: its owner and the members of its group. */
function usersOf(worker: WorkerSnapshot): string[] {
  return [worker.owner_id, ...(worker.group_member_ids ?? [])];
}

function servesQueue(run: StagedRun, worker: WorkerSnapshot): boolean {
  return run.queue !== null ? worker.tag === run.queue : !worker.tag_exclusive;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

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

function fits(run: StagedRun, w: WorkerSnapshot): boolean {
  const r = run.resources;
  return (
    w.free_slots >= 1 &&
    w.runs_left !== 0 &&
    w.docker_ok &&
    w.free_cpus >= r.cpus &&
    w.free_gpus >= r.gpus &&
    w.free_memory >= r.memory &&
    // A worker with no free disk beyond its reserve takes no run at all.
    (r.disk > 0 ? w.free_disk >= r.disk : w.free_disk > 0) &&
    servesQueue(run, w) &&
    canUse(run, w)
  );
}

/**
 * Ranking, best first: tag-exclusive workers, then workers private to the owner (their own, then
 * their groups'), then (for CPU-only
 * runs) workers without GPUs (compareRank); then more cached dependencies; then best fit
 * (compareFit). compareRank is positive when `a` is better.
 */
function compareRank(run: StagedRun, a: WorkerSnapshot, b: WorkerSnapshot): number {
  if (a.tag_exclusive !== b.tag_exclusive) return a.tag_exclusive ? 1 : -1;
  // Workers private to the run's owner (their own or their group's) before shared ones.
  if (a.owner_is_root !== b.owner_is_root) return a.owner_is_root ? -1 : 1;
  const aOwn = a.owner_id === run.owner_id;
  if (aOwn !== (b.owner_id === run.owner_id)) return aOwn ? 1 : -1;
  if (run.resources.gpus === 0) {
    const aNoGpu = (a.total_gpus ?? a.free_gpus) === 0;
    if (aNoGpu !== ((b.total_gpus ?? b.free_gpus) === 0)) return aNoGpu ? 1 : -1;
  }
  return 0;
}

/** Best fit: the worker left with fewer free CPUs (then less free memory) wins. */
function compareFit(a: WorkerSnapshot, b: WorkerSnapshot): number {
  if (a.free_cpus !== b.free_cpus) return b.free_cpus - a.free_cpus;
  return b.free_memory - a.free_memory;
}


/**
 * Runs that agree on this key are placeable on exactly the same workers. The owner matters only
 * for owners who have workers of their own; everyone else sees the same shared workers.
 */
function feasibilityKey(run: StagedRun, owner: string): string {
  const r = run.resources;
  return `${owner}\u0000${run.queue ?? ''}\u0000${r.cpus}\u0000${r.gpus}\u0000${r.memory}\u0000${r.disk}`;
}

/** Open workers of one kind (shared, or one owner's own), with upper bounds on what they have free. */
interface Pool {
  workers: WorkerSnapshot[];
  /** Never below the true maxima (free resources only shrink in a pass), so a request above them cannot fit. */
  maxCpus: number;
  maxGpus: number;
  maxMemory: number;
}

function newPool(workers: WorkerSnapshot[]): Pool {
  return {
    workers,
    maxCpus: maxOf(workers, (w) => w.free_cpus),
    maxGpus: maxOf(workers, (w) => w.free_gpus),
    maxMemory: maxOf(workers, (w) => w.free_memory),
  };
}

interface Candidate {
  pool: Pool;
  index: number;
  /** Cached dependencies of the worker, counted only when a comparison gets that far (-1: not yet). */
  cached: number;
}

/** How many of the run's dependencies each worker caches; absent = none. */
type Warmth = ReadonlyMap<WorkerSnapshot, number>;

/** Built once per run from an index of who caches what, so ranking never hashes dependency keys per worker. */
function warmthOf(run: StagedRun, holders: ReadonlyMap<string, WorkerSnapshot[]>): Warmth {
  const warm = new Map<WorkerSnapshot, number>();
  for (const key of run.dependency_keys) for (const w of holders.get(key) ?? []) warm.set(w, (warm.get(w) ?? 0) + 1);
  return warm;
}

/** The best worker of `pool` for `run`, better than `best`; tightens the pool's bounds on the way. */
function scanPool(run: StagedRun, pool: Pool, best: Candidate | null, warmth: Warmth): Candidate | null {
  const r = run.resources;
  if (r.cpus > pool.maxCpus || r.gpus > pool.maxGpus || r.memory > pool.maxMemory) return best;
  let maxCpus = 0;
  let maxGpus = 0;
  let maxMemory = 0;
  const list = pool.workers;
  for (let i = 0; i < list.length; i += 1) {
    const w = list[i] as WorkerSnapshot;
    if (w.free_cpus > maxCpus) maxCpus = w.free_cpus;
    if (w.free_gpus > maxGpus) maxGpus = w.free_gpus;
    if (w.free_memory > maxMemory) maxMemory = w.free_memory;
    if (!fits(run, w)) continue;
    if (best === null) {
      best = { pool, index: i, cached: -1 };
      continue;
    }
    const current = best.pool.workers[best.index] as WorkerSnapshot;
    let order = compareRank(run, w, current);
    let cached = -1;
    if (order === 0) {
      if (warmth.size > 0) {
        cached = warmth.get(w) ?? 0;
        if (best.cached < 0) best.cached = warmth.get(current) ?? 0;
        order = cached - best.cached;
      }
      if (order === 0) order = compareFit(w, current);
    }
    if (order > 0) best = { pool, index: i, cached };
  }
  pool.maxCpus = maxCpus;
  pool.maxGpus = maxGpus;
  pool.maxMemory = maxMemory;
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
  // Workers that may still take a run this pass; a worker leaves its pool when its slots or runs run out.
  const open = all.filter((w) => w.free_slots >= 1 && w.runs_left !== 0 && w.docker_ok);
  const shared = newPool(open.filter((w) => w.owner_is_root));
  // Each user's private pool: their own workers and their groups' (a worker may be in several
  // pools; one taken full in one pool is skipped by the others, since fits() checks its slots).
  const own = new Map<string, Pool>();
  for (const w of open.filter((x) => !x.owner_is_root)) {
    for (const user of usersOf(w)) {
      const pool = own.get(user);
      if (pool) pool.workers.push(w);
      else own.set(user, { workers: [w], maxCpus: 0, maxGpus: 0, maxMemory: 0 });
    }
  }
  for (const [owner, pool] of own) own.set(owner, newPool(pool.workers));
  const privateOwners = new Set(all.filter((w) => !w.owner_is_root).flatMap(usersOf));
  const holders = new Map<string, WorkerSnapshot[]>();
  for (const w of open) {
    for (const key of w.cached_dependencies) {
      const list = holders.get(key);
      if (list) list.push(w);
      else holders.set(key, [w]);
    }
  }
  const noWarmth: Warmth = new Map();
  const assignments: MatchResult['assignments'] = [];
  const waiting = new Map<string, string>();
  const unplaceable = new Map<string, string>();
  /** Request keys that no shared worker can take any more this pass. */
  const sharedFull = new Set<string>();
  for (const run of runs) {
    const hasOwn = privateOwners.has(run.owner_id);
    const limited = atQuota(run.owner_id);
    if (limited && !hasOwn) {
      waiting.set(run.uuid, quotaWaiting(sharedRuns.get(run.owner_id) ?? 0));
      continue;
    }
    const key = feasibilityKey(run, hasOwn ? run.owner_id : '');
    const known = unplaceable.get(key);
    if (known !== undefined) {
      waiting.set(run.uuid, known);
      continue;
    }
    const requestKey = hasOwn ? feasibilityKey(run, '') : key;
    let best: Candidate | null = null;
    const warmth = run.dependency_keys.length > 0 ? warmthOf(run, holders) : noWarmth;
    if (!limited && !sharedFull.has(requestKey)) {
      best = scanPool(run, shared, null, warmth);
      if (best === null) sharedFull.add(requestKey);
    }
    const mine = own.get(run.owner_id);
    if (mine) best = scanPool(run, mine, best, warmth);
    if (best === null && limited) {
      // Not cached as unplaceable: the owner's own workers may free up, and the reason is the quota.
      waiting.set(run.uuid, quotaWaiting(sharedRuns.get(run.owner_id) ?? 0));
      continue;
    }
    if (best === null) {
      const reason = explainWaiting(run, all);
      unplaceable.set(key, reason);
      waiting.set(run.uuid, reason);
      continue;
    }
    const worker = best.pool.workers[best.index] as WorkerSnapshot;
    worker.free_cpus -= run.resources.cpus;
    worker.free_gpus -= run.resources.gpus;
    worker.free_memory -= run.resources.memory;
    if (run.resources.disk > 0) worker.free_disk -= run.resources.disk;
    worker.free_slots -= 1;
    if (worker.runs_left !== null) worker.runs_left -= 1;
    if (worker.free_slots < 1 || worker.runs_left === 0) {
      const list = best.pool.workers;
      list[best.index] = list[list.length - 1] as WorkerSnapshot;
      list.pop();
    }
    if (worker.owner_is_root && quotas.has(run.owner_id)) sharedRuns.set(run.owner_id, (sharedRuns.get(run.owner_id) ?? 0) + 1);
    assignments.push({ uuid: run.uuid, worker_key: worker.key });
  }
  return { assignments, waiting };
}

function quotaWaiting(running: number): string {
  return `Waiting: ${parallelRunQuotaReason(running)}.`;
}

function maxOf(workers: readonly WorkerSnapshot[], pick: (w: WorkerSnapshot) => number): number {
  let max = 0;
  for (const w of workers) max = Math.max(max, pick(w));
  return max;
}

/** What explainWaiting needs to know about the workers a run could use, gathered in one pass. */
interface Survey {
  total: number;
  usable: number;
  queued: number;
  withDocker: number;
  live: number;
  withSlot: number;
  /** Largest totals among live workers, and largest free figures among those with a free slot. */
  capacity: { cpus: number; gpus: number; memory: number };
  free: { cpus: number; gpus: number; memory: number; disk: number };
  lostGpus: string[];
}

function survey(run: StagedRun, workers: readonly WorkerSnapshot[]): Survey {
  const s: Survey = {
    total: workers.length, usable: 0, queued: 0, withDocker: 0, live: 0, withSlot: 0,
    capacity: { cpus: 0, gpus: 0, memory: 0 }, free: { cpus: 0, gpus: 0, memory: 0, disk: 0 }, lostGpus: [],
  };
  for (const w of workers) {
    if (!canUse(run, w)) continue;
    s.usable += 1;
    if (!servesQueue(run, w)) continue;
    s.queued += 1;
    if (!w.docker_ok) continue;
    s.withDocker += 1;
    if (w.runs_left === 0) continue;
    s.live += 1;
    if (w.gpus_lost === true) s.lostGpus.push(w.name ?? w.key);
    s.capacity.cpus = Math.max(s.capacity.cpus, w.total_cpus ?? w.free_cpus);
    s.capacity.gpus = Math.max(s.capacity.gpus, w.total_gpus ?? w.free_gpus);
    s.capacity.memory = Math.max(s.capacity.memory, w.total_memory ?? w.free_memory);
    if (w.free_slots < 1) continue;
    s.withSlot += 1;
    s.free.cpus = Math.max(s.free.cpus, w.free_cpus);
    s.free.gpus = Math.max(s.free.gpus, w.free_gpus);
    s.free.memory = Math.max(s.free.memory, w.free_memory);
    s.free.disk = Math.max(s.free.disk, w.free_disk);
  }
  return s;
}

/**
 * Why no worker can take `run` now, one clause per reason, each with numbers: a request larger
 * than any worker ("largest worker has 31g") before one that only has to wait ("best worker has
 * 1 free"), so a run that can never be placed says so.
 */
export function explainWaiting(run: StagedRun, workers: readonly WorkerSnapshot[]): string {
  const prefix = 'No worker can take this run: ';
  const s = survey(run, workers);
  if (s.total === 0) return 'No worker is connected.';
  if (s.usable === 0) {
    return `No worker is available to you (${s.total === 1 ? 'the only worker belongs' : `all ${s.total} workers belong`} to another user).`;
  }
  if (s.queued === 0) {
    return run.queue !== null
      ? `${prefix}no worker serves queue ${run.queue}.`
      : `${prefix}every worker only takes runs for its own queue (use --request-queue).`;
  }
  if (s.withDocker === 0) return `${prefix}${plural(s.queued, 'worker')} cannot reach Docker.`;
  if (s.live === 0) return `${prefix}every worker has reached its --exit-after-num-runs.`;
  const never = capacityReasons(run, s);
  if (never.length > 0) return `${prefix}${never.join('; ')}.`;
  if (s.withSlot === 0) {
    return `${prefix}${s.live === 1 ? 'the only worker is' : `all ${s.live} workers are`} busy (every slot is taken).`;
  }
  const wait = freeReasons(run, s);
  if (wait.length > 0) return `${prefix}${wait.join('; ')}.`;
  return `${prefix}no single worker has ${describeRequest(run)} free at once.`;
}

/** Requests larger than any worker's total: these never fit until a bigger worker connects. */
function capacityReasons(run: StagedRun, s: Survey): string[] {
  const r = run.resources;
  const reasons: string[] = [];
  const c = s.capacity;
  if (r.cpus > c.cpus) reasons.push(`needs ${plural(r.cpus, 'CPU')}; largest worker has ${c.cpus}`);
  if (r.gpus > c.gpus) reasons.push(`needs ${plural(r.gpus, 'GPU')}; largest worker has ${c.gpus}${lostGpusNote(s.lostGpus)}`);
  if (r.memory > c.memory) reasons.push(`needs ${formatSize(r.memory)} memory; largest worker has ${formatSize(c.memory)}`);
  return reasons;
}

/** Requests larger than what any worker has free now: these wait for runs to end. */
function freeReasons(run: StagedRun, s: Survey): string[] {
  const r = run.resources;
  const reasons: string[] = [];
  const f = s.free;
  if (r.cpus > f.cpus) reasons.push(`needs ${plural(r.cpus, 'CPU')}; best worker has ${f.cpus} free`);
  if (r.gpus > f.gpus) reasons.push(`needs ${plural(r.gpus, 'GPU')}; best worker has ${f.gpus} free${lostGpusNote(s.lostGpus)}`);
  if (r.memory > f.memory) reasons.push(`needs ${formatSize(r.memory)} memory; best worker has ${formatSize(f.memory)} free`);
  if (r.disk > 0 && r.disk > f.disk) reasons.push(`needs ${formatSize(r.disk)} disk; best worker has ${formatSize(f.disk)} free`);
  if (r.disk <= 0 && f.disk <= 0) reasons.push("every worker's disk is full (no space beyond its reserve)");
  return reasons;
}

function lostGpusNote(lost: readonly string[]): string {
  if (lost.length === 0) return '';
  return ` (${lost.length === 1 ? `worker ${lost[0]}` : `workers ${lost.join(', ')}`} reported GPUs before and now report${lost.length === 1 ? 's' : ''} none)`;
}

function describeRequest(run: StagedRun): string {
  const r = run.resources;
  const parts = [plural(r.cpus, 'CPU'), ...(r.gpus > 0 ? [plural(r.gpus, 'GPU')] : []), `${formatSize(r.memory)} memory`];
  if (r.disk > 0) parts.push(`${formatSize(r.disk)} disk`);
  return parts.join(', ');
}
