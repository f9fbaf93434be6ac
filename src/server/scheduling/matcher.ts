// The scheduler's core: a pure function from staged runs and worker snapshots to assignments,
// and, for every run left waiting, the reason in words with numbers. No I/O, no clock.
import { formatSize } from '../../common/sizes.js';
import type { RunResources } from '../../protocol/index.js';

export interface StagedRun {
  uuid: string;
  owner_id: string;
  resources: RunResources;
  queue: string | null;
  /** Parent keys `uuid:path`, for preferring workers that already cache them. */
  dependency_keys: string[];
}

export interface WorkerSnapshot {
  key: string;
  owner_id: string;
  owner_is_root: boolean;
  tag: string | null;
  tag_exclusive: boolean;
  free_cpus: number;
  free_gpus: number;
  free_memory: number;
  free_disk: number;
  free_slots: number;
  runs_left: number | null;
  docker_ok: boolean;
  cached_dependencies: ReadonlySet<string>;
}

export interface MatchResult {
  assignments: { uuid: string; worker_key: string }[];
  /** Why each run that was not placed is waiting. */
  waiting: Map<string, string>;
}

/** Why `worker` cannot take `run`, or null when it fits. */
export function rejectionReason(run: StagedRun, worker: WorkerSnapshot): string | null {
  if (!worker.owner_is_root && worker.owner_id !== run.owner_id) return 'worker belongs to another user';
  if (run.queue !== null && worker.tag !== run.queue) return `no worker serves queue ${run.queue}`;
  if (run.queue === null && worker.tag_exclusive) return 'worker only takes runs for its tag';
  if (!worker.docker_ok) return 'worker cannot reach Docker';
  if (worker.runs_left === 0) return 'worker accepts no more runs';
  if (worker.free_slots < 1) return 'worker has no free slot';
  const r = run.resources;
  if (worker.free_cpus < r.cpus) return `needs ${r.cpus} CPUs; worker has ${worker.free_cpus} free`;
  if (worker.free_gpus < r.gpus) return `needs ${r.gpus} GPUs; worker has ${worker.free_gpus} free`;
  if (worker.free_memory < r.memory) {
    return `needs ${formatSize(r.memory)} memory; worker has ${formatSize(worker.free_memory)} free`;
  }
  if (r.disk > 0 && worker.free_disk < r.disk) {
    return `needs ${formatSize(r.disk)} disk; worker has ${formatSize(worker.free_disk)} free`;
  }
  return null;
}

/** Higher is better: tag-exclusive first, own workers, GPU-less for CPU runs, cached deps, best fit. */
function preference(run: StagedRun, worker: WorkerSnapshot): number[] {
  const cached = run.dependency_keys.filter((k) => worker.cached_dependencies.has(k)).length;
  return [
    worker.tag_exclusive ? 1 : 0,
    worker.owner_id === run.owner_id ? 1 : 0,
    run.resources.gpus === 0 && worker.free_gpus === 0 ? 1 : 0,
    cached,
    -worker.free_cpus,
  ];
}

function compareVectors(a: number[], b: number[]): number {
  for (let i = 0; i < a.length; i += 1) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

export function matchRuns(runs: readonly StagedRun[], workers: readonly WorkerSnapshot[]): MatchResult {
  const free = workers.map((w) => ({ ...w }));
  const assignments: MatchResult['assignments'] = [];
  const waiting = new Map<string, string>();
  for (const run of runs) {
    let best: (typeof free)[number] | undefined;
    const reasons: string[] = [];
    for (const worker of free) {
      const reason = rejectionReason(run, worker);
      if (reason) {
        reasons.push(reason);
        continue;
      }
      if (!best || compareVectors(preference(run, worker), preference(run, best)) > 0) best = worker;
    }
    if (!best) {
      waiting.set(run.uuid, summarizeReasons(reasons));
      continue;
    }
    best.free_cpus -= run.resources.cpus;
    best.free_gpus -= run.resources.gpus;
    best.free_memory -= run.resources.memory;
    best.free_slots -= 1;
    if (best.runs_left !== null) best.runs_left -= 1;
    assignments.push({ uuid: run.uuid, worker_key: best.key });
  }
  return { assignments, waiting };
}

function summarizeReasons(reasons: string[]): string {
  if (reasons.length === 0) return 'No worker is connected.';
  const counts = new Map<string, number>();
  for (const r of reasons) counts.set(r, (counts.get(r) ?? 0) + 1);
  const parts = [...counts.entries()].map(([r, n]) => (n > 1 ? `${r} (${n} workers)` : r));
  return `No worker can take this run: ${parts.join('; ')}.`;
}
