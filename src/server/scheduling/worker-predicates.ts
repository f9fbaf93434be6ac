// Which runs a worker may take at all, as predicates shared by placement (matcher.ts,
// worker-pools.ts) and the words that explain waiting (explain-waiting.ts). Pure.
import type { StagedRun, WorkerSnapshot } from './matcher.js';

/** Whether the run's owner may use the worker at all: a shared (root) one, their own, or their group's. */
export function canUse(run: StagedRun, worker: WorkerSnapshot): boolean {
  return worker.owner_is_root || worker.owner_id === run.owner_id || (worker.group_member_ids?.has(run.owner_id) ?? false);
}

/** Everyone whose runs a private worker takes: its owner and the members of its group, each once. */
export function usersOf(worker: WorkerSnapshot): string[] {
  return [...new Set([worker.owner_id, ...(worker.group_member_ids ?? [])])];
}

export function servesQueue(run: StagedRun, worker: WorkerSnapshot): boolean {
  return run.queue !== null ? worker.tag === run.queue : !worker.tag_exclusive;
}

/** Whether the worker has what the run asks for free now (slots, runs left, Docker aside). */
export function hasRoomFor(run: StagedRun, w: WorkerSnapshot): boolean {
  const r = run.resources;
  return (
    w.free_cpus >= r.cpus &&
    w.free_gpus >= r.gpus &&
    w.free_memory >= r.memory &&
    // A worker with no free disk beyond its reserve takes no run at all.
    (r.disk > 0 ? w.free_disk >= r.disk : w.free_disk > 0)
  );
}

/** Whether the worker may still take any run this pass. */
export function isOpen(w: WorkerSnapshot): boolean {
  return w.free_slots >= 1 && w.runs_left !== 0 && w.docker_ok;
}

export function fits(run: StagedRun, w: WorkerSnapshot): boolean {
  return isOpen(w) && hasRoomFor(run, w) && servesQueue(run, w) && canUse(run, w);
}

/** Whether the worker counts as GPU-less, where CPU-only runs go first. */
export function hasNoGpus(w: WorkerSnapshot): boolean {
  return (w.total_gpus ?? w.free_gpus) === 0;
}

export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
