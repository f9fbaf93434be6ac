// The open workers of one scheduling pass, indexed so that placing a run looks at a handful of
// workers rather than all of them. Workers are grouped into classes that rank alike for every run
// (same owner, tag, exclusivity and GPU-lessness), each class kept sorted by best fit. Pure and
// pass-local: it mutates only the worker copies the matcher hands it.
import type { StagedRun, WorkerSnapshot } from './matcher.js';
import { hasNoGpus, hasRoomFor, isOpen, usersOf } from './worker-predicates.js';

/** A worker with its position in the matcher's input, the last tie-break (earlier wins). */
export interface Slot {
  worker: WorkerSnapshot;
  index: number;
  /** The class it is in (classKeyOf at its last placement). */
  classKey: string;
  /** hasNoGpus at its last placement: the one part of classKeyOf a placement can change. */
  noGpus: boolean;
  /** Scratch for the run being placed: its dependency bytes this worker caches (0 between runs). */
  warmth: number;
}

/** Workers with equal keys rank alike for every run. */
export function classKeyOf(w: WorkerSnapshot): string {
  return `${w.owner_id}\u0000${w.tag ?? ''}\u0000${w.tag_exclusive}\u0000${hasNoGpus(w)}`;
}

/** Workers that rank alike for any run, sorted by (free CPUs, free memory, index) ascending: best fit first. */
interface WorkerClass {
  owner_id: string;
  owner_is_root: boolean;
  tag: string | null;
  tag_exclusive: boolean;
  noGpus: boolean;
  slots: Slot[];
  /** Upper bounds on what any member has free; members only shrink, so a request above them cannot fit. */
  maxGpus: number;
  maxMemory: number;
  maxDisk: number;
  /** Requests (RunKinds' request ids) that fit no member: members only shrink, so they never will in this pass. */
  full: Set<number>;
}

/** A class as one kind of run ranks it (rankOf). */
export interface RankedClass {
  cls: WorkerClass;
  rank: number;
}

/** The classes of one pool: shared (root) workers, or those one user may use privately. */
export class Pool {
  private readonly classes = new Map<string, WorkerClass>();
  /** The owners of its classes: only for these owners does a run's owner change the ranking. */
  private readonly owners = new Set<string>();
  /**
   * classesFor's answers, by the three things ranking and queue filtering look at: the run's
   * owner (null for all who own no class here), queue and GPU-lessness. Kept until a class is added; a
   * class that empties stays listed and is skipped by the caller, which keeps the order.
   */
  private readonly ranked = new Map<string | null, Map<string | null, [RankedClass[] | undefined, RankedClass[] | undefined]>>();

  /** Puts the slot in its class; `newcomer`: it was not in that class before this pass re-sorted it. */
  add(slot: Slot, newcomer: boolean): void {
    const w = slot.worker;
    let cls = this.classes.get(slot.classKey);
    if (!cls) {
      cls = {
        owner_id: w.owner_id, owner_is_root: w.owner_is_root, tag: w.tag, tag_exclusive: w.tag_exclusive, noGpus: hasNoGpus(w),
        slots: [], maxGpus: 0, maxMemory: 0, maxDisk: 0, full: new Set(),
      };
      this.classes.set(slot.classKey, cls);
      this.owners.add(w.owner_id);
      this.ranked.clear();
    } else if (newcomer) {
      // A newcomer may fit what the members could not.
      cls.full.clear();
    }
    cls.slots.splice(insertionPoint(cls.slots, slot), 0, slot);
    cls.maxGpus = Math.max(cls.maxGpus, w.free_gpus);
    cls.maxMemory = Math.max(cls.maxMemory, w.free_memory);
    cls.maxDisk = Math.max(cls.maxDisk, w.free_disk);
  }

  /** Takes the slot out of its class; call before its worker's free figures change. */
  remove(slot: Slot): void {
    const slots = this.classes.get(slot.classKey)?.slots;
    if (!slots) return;
    const at = insertionPoint(slots, slot);
    if (slots[at] === slot) slots.splice(at, 1);
  }

  /**
   * The classes whose workers serve the run's queue, best rank first (ties in the order the
   * classes were made). May list classes that have emptied since: skip those. Do not modify.
   */
  classesFor(run: StagedRun): readonly RankedClass[] {
    const owner = this.owners.has(run.owner_id) ? run.owner_id : null;
    let byQueue = this.ranked.get(owner);
    if (byQueue === undefined) {
      byQueue = new Map();
      this.ranked.set(owner, byQueue);
    }
    let lists = byQueue.get(run.queue);
    if (lists === undefined) {
      lists = [undefined, undefined];
      byQueue.set(run.queue, lists);
    }
    const gpuLess = run.resources.gpus === 0 ? 1 : 0;
    let list = lists[gpuLess];
    if (list === undefined) {
      list = [];
      for (const cls of this.classes.values()) {
        if (run.queue !== null ? cls.tag !== run.queue : cls.tag_exclusive) continue;
        list.push({ cls, rank: rankOf(run, cls, cls.noGpus) });
      }
      list.sort((a, b) => b.rank - a.rank);
      lists[gpuLess] = list;
    }
    return list;
  }
}

/**
 * Ranking, higher first: tag-exclusive workers, then workers private to the owner (their own, then
 * their groups'), then (for CPU-only runs) workers without GPUs. Within a rank, more cached
 * dependency bytes, then best fit, then input order.
 */
export function rankOf(run: StagedRun, w: Pick<WorkerSnapshot, 'tag_exclusive' | 'owner_is_root' | 'owner_id'>, noGpus: boolean): number {
  return (w.tag_exclusive ? 8 : 0) + (w.owner_is_root ? 0 : 4) + (w.owner_id === run.owner_id ? 2 : 0) + (run.resources.gpus === 0 && noGpus ? 1 : 0);
}

/** rankOf for one worker (its slot knows whether it counts as GPU-less). */
export function rankOfSlot(run: StagedRun, slot: Slot): number {
  return rankOf(run, slot.worker, slot.noGpus);
}

/** Negative when `a` fits tighter (fewer free CPUs, then less free memory, then earlier in the input). */
export function compareFit(a: Slot, b: Slot): number {
  const x = a.worker;
  const y = b.worker;
  if (x.free_cpus !== y.free_cpus) return x.free_cpus - y.free_cpus;
  if (x.free_memory !== y.free_memory) return x.free_memory - y.free_memory;
  return a.index - b.index;
}

/** Where `slot` sits (or would sit) in a list sorted by compareFit. */
function insertionPoint(slots: readonly Slot[], slot: Slot): number {
  let lo = 0;
  let hi = slots.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareFit(slots[mid] as Slot, slot) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The first position whose worker has at least `cpus` free. */
function firstWithCpus(slots: readonly Slot[], cpus: number): number {
  let lo = 0;
  let hi = slots.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((slots[mid] as Slot).worker.free_cpus < cpus) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The best-fitting member of `cls` with room for the run, or null (remembered per request). */
export function bestFitIn(run: StagedRun, requestId: number, cls: WorkerClass): Slot | null {
  const r = run.resources;
  if (r.gpus > cls.maxGpus || r.memory > cls.maxMemory || (r.disk > 0 ? r.disk > cls.maxDisk : cls.maxDisk <= 0)) return null;
  if (cls.full.has(requestId)) return null;
  const slots = cls.slots;
  for (let i = firstWithCpus(slots, r.cpus); i < slots.length; i += 1) {
    const slot = slots[i] as Slot;
    if (hasRoomFor(run, slot.worker)) return slot;
  }
  cls.full.add(requestId);
  tightenBounds(cls);
  return null;
}

function tightenBounds(cls: WorkerClass): void {
  cls.maxGpus = 0;
  cls.maxMemory = 0;
  cls.maxDisk = 0;
  for (const { worker: w } of cls.slots) {
    if (w.free_gpus > cls.maxGpus) cls.maxGpus = w.free_gpus;
    if (w.free_memory > cls.maxMemory) cls.maxMemory = w.free_memory;
    if (w.free_disk > cls.maxDisk) cls.maxDisk = w.free_disk;
  }
}

/** The pools of one pass: the shared one, and one per user who may use private workers. */
export class PassPools {
  readonly shared = new Pool();
  readonly private = new Map<string, Pool>();
  /** Every pool each worker is in, to re-sort it everywhere after a placement. */
  private readonly memberships = new Map<Slot, Pool[]>();

  /** The workers that may take a run this pass, in input order. */
  readonly open: Slot[] = [];

  /** `workers` become the pass's own: placements deduct from them. */
  constructor(workers: readonly WorkerSnapshot[]) {
    workers.forEach((worker, index) => {
      if (!isOpen(worker)) return;
      const slot: Slot = { worker, index, classKey: classKeyOf(worker), noGpus: hasNoGpus(worker), warmth: 0 };
      const pools = worker.owner_is_root ? [this.shared] : usersOf(worker).map((user) => this.privatePool(user));
      for (const pool of pools) pool.add(slot, true);
      this.memberships.set(slot, pools);
      this.open.push(slot);
    });
  }

  private privatePool(user: string): Pool {
    let pool = this.private.get(user);
    if (!pool) {
      pool = new Pool();
      this.private.set(user, pool);
    }
    return pool;
  }

  /** Deducts what the run takes from the slot's worker and re-sorts it (or drops it once full). */
  place(run: StagedRun, slot: Slot): void {
    const pools = this.memberships.get(slot) ?? [];
    for (const pool of pools) pool.remove(slot);
    const w = slot.worker;
    const r = run.resources;
    w.free_cpus -= r.cpus;
    w.free_gpus -= r.gpus;
    w.free_memory -= r.memory;
    if (r.disk > 0) w.free_disk -= r.disk;
    w.free_slots -= 1;
    if (w.runs_left !== null) w.runs_left -= 1;
    if (!isOpen(w)) return;
    // Owner, tag and exclusivity never change; only the GPU-lessness can move it to another class.
    const moved = hasNoGpus(w) !== slot.noGpus;
    if (moved) {
      slot.noGpus = !slot.noGpus;
      slot.classKey = classKeyOf(w);
    }
    for (const pool of pools) pool.add(slot, moved);
  }
}
