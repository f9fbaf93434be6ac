// Why a run waits, in words with numbers ("needs 2 GPUs; best worker has 1 free"): a survey of the
// workers the run could use, then one clause per shortfall. Pure; the matcher calls it for each
// kind of run that found no worker, with the workers as the pass has left them.
import { formatSize } from '../../common/sizes.js';
import type { StagedRun, WorkerSnapshot } from './matcher.js';
import { canUse, plural, servesQueue, usersOf } from './worker-predicates.js';
import { addToList } from '../../common/lists-by-key.js';

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
  /** How many workers counted in `withSlot` have each largest free figure: while one does, it stands. */
  freeHolders: { cpus: number; gpus: number; memory: number; disk: number };
  /** Live workers that lost their GPUs, by input position. */
  lostGpus: { index: number; name: string }[];
}

function emptySurvey(total: number): Survey {
  return {
    total, usable: 0, queued: 0, withDocker: 0, live: 0, withSlot: 0,
    capacity: { cpus: 0, gpus: 0, memory: 0 }, free: { cpus: 0, gpus: 0, memory: 0, disk: 0 },
    freeHolders: { cpus: 0, gpus: 0, memory: 0, disk: 0 }, lostGpus: [],
  };
}

/** Counts `w`, a worker the run may use, into `s`. */
function count(s: Survey, run: StagedRun, w: WorkerSnapshot, index: number): void {
  s.usable += 1;
  if (!servesQueue(run, w)) return;
  s.queued += 1;
  if (!w.docker_ok) return;
  s.withDocker += 1;
  if (w.runs_left === 0) return;
  s.live += 1;
  if (w.gpus_lost === true) s.lostGpus.push({ index, name: w.name ?? w.key });
  s.capacity.cpus = Math.max(s.capacity.cpus, w.total_cpus ?? w.free_cpus);
  s.capacity.gpus = Math.max(s.capacity.gpus, w.total_gpus ?? w.free_gpus);
  s.capacity.memory = Math.max(s.capacity.memory, w.total_memory ?? w.free_memory);
  if (w.free_slots < 1) return;
  s.withSlot += 1;
  countFree(s, 'cpus', w.free_cpus);
  countFree(s, 'gpus', w.free_gpus);
  countFree(s, 'memory', w.free_memory);
  countFree(s, 'disk', w.free_disk);
}

type FreeFigure = keyof Survey['free'];

/** Keeps the largest free figure and how many workers have it. */
function countFree(s: Survey, figure: FreeFigure, value: number): void {
  if (value > s.free[figure]) {
    s.free[figure] = value;
    s.freeHolders[figure] = 1;
  } else if (value === s.free[figure]) {
    s.freeHolders[figure] += 1;
  }
}

function survey(run: StagedRun, workers: readonly WorkerSnapshot[]): Survey {
  const s = emptySurvey(workers.length);
  workers.forEach((w, index) => {
    if (canUse(run, w)) count(s, run, w, index);
  });
  return s;
}

/** Both surveys in one, as if taken over both sets of workers at once. */
function merge(a: Survey, b: Survey): Survey {
  return {
    total: a.total,
    usable: a.usable + b.usable,
    queued: a.queued + b.queued,
    withDocker: a.withDocker + b.withDocker,
    live: a.live + b.live,
    withSlot: a.withSlot + b.withSlot,
    capacity: {
      cpus: Math.max(a.capacity.cpus, b.capacity.cpus),
      gpus: Math.max(a.capacity.gpus, b.capacity.gpus),
      memory: Math.max(a.capacity.memory, b.capacity.memory),
    },
    free: {
      cpus: Math.max(a.free.cpus, b.free.cpus),
      gpus: Math.max(a.free.gpus, b.free.gpus),
      memory: Math.max(a.free.memory, b.free.memory),
      disk: Math.max(a.free.disk, b.free.disk),
    },
    // Only kept surveys are adjusted, and a merged one is never kept.
    freeHolders: { cpus: 0, gpus: 0, memory: 0, disk: 0 },
    lostGpus: [...a.lostGpus, ...b.lostGpus].sort((x, y) => x.index - y.index),
  };
}

/** The key of the survey for runs that name no queue (no queue is named by a NUL). */
const NO_QUEUE = '\u0000';

/**
 * Takes one of the worker's free figures, `before` the placement and `now`, out of the survey's
 * largest; false where the largest was the worker's alone (it may have shrunk, so only a new
 * survey can tell).
 */
function keepsLargestFree(s: Survey, figure: FreeFigure, before: number, now: number, hasSlot: boolean): boolean {
  if (before !== s.free[figure] || (hasSlot && now === before)) return true;
  if (s.freeHolders[figure] <= 1) return false;
  s.freeHolders[figure] -= 1;
  return true;
}

/**
 * explainWaiting for the runs of one matcher pass, over the pass's own worker copies. Shared
 * workers are most of them and the same for every run of a queue, so their survey is kept per
 * queue until a placement on a shared worker changes them; only each owner's private workers are
 * surveyed afresh.
 */
export class WaitingExplainer {
  private readonly shared: { worker: WorkerSnapshot; index: number }[] = [];
  /** Private workers by each user who may use them (owner and group members). */
  private readonly privateByUser = new Map<string, { worker: WorkerSnapshot; index: number }[]>();
  private readonly sharedSurveys = new Map<string, Survey>();

  constructor(private readonly workers: readonly WorkerSnapshot[]) {
    workers.forEach((worker, index) => {
      if (worker.owner_is_root) {
        this.shared.push({ worker, index });
        return;
      }
      for (const user of usersOf(worker)) {
        addToList(this.privateByUser, user, { worker, index });
      }
    });
  }

  /**
   * Call after the pass placed `run` on `worker`. A kept shared survey is adjusted where that is
   * exact: the worker stays live, and each largest free figure it no longer has (it shrank, or
   * the worker has no free slot left) is still had by another worker. Otherwise it is dropped.
   */
  placed(worker: WorkerSnapshot, run: StagedRun): void {
    if (!worker.owner_is_root || !worker.docker_ok) return;
    const r = run.resources;
    const lost = worker.runs_left === 0 || worker.total_cpus === undefined || worker.total_gpus === undefined || worker.total_memory === undefined;
    const hasSlot = worker.free_slots >= 1;
    const disk = r.disk > 0 ? r.disk : 0;
    this.sharedSurveys.forEach((s, queueKey) => {
      const queue = queueKey === NO_QUEUE ? null : queueKey;
      if (queue !== null ? worker.tag !== queue : worker.tag_exclusive) return;
      const kept =
        !lost &&
        keepsLargestFree(s, 'cpus', worker.free_cpus + r.cpus, worker.free_cpus, hasSlot) &&
        keepsLargestFree(s, 'gpus', worker.free_gpus + r.gpus, worker.free_gpus, hasSlot) &&
        keepsLargestFree(s, 'memory', worker.free_memory + r.memory, worker.free_memory, hasSlot) &&
        keepsLargestFree(s, 'disk', worker.free_disk + disk, worker.free_disk, hasSlot);
      if (!kept) this.sharedSurveys.delete(queueKey);
      else if (!hasSlot) s.withSlot -= 1;
    });
  }

  explain(run: StagedRun): string {
    const queueKey = run.queue ?? NO_QUEUE;
    let shared = this.sharedSurveys.get(queueKey);
    if (shared === undefined) {
      shared = emptySurvey(this.workers.length);
      for (const { worker, index } of this.shared) count(shared, run, worker, index);
      this.sharedSurveys.set(queueKey, shared);
    }
    const privately = this.privateByUser.get(run.owner_id);
    if (privately === undefined) return explainSurvey(run, shared);
    const mine = emptySurvey(this.workers.length);
    for (const { worker, index } of privately) count(mine, run, worker, index);
    return explainSurvey(run, merge(shared, mine));
  }
}

/**
 * Why no worker can take `run` now, one clause per reason, each with numbers: a request larger
 * than any worker ("largest worker has 31g") before one that only has to wait ("best worker has
 * 1 free"), so a run that can never be placed says so.
 */
export function explainWaiting(run: StagedRun, workers: readonly WorkerSnapshot[]): string {
  return explainSurvey(run, survey(run, workers));
}

function explainSurvey(run: StagedRun, s: Survey): string {
  const prefix = 'No worker can take this run: ';
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

function lostGpusNote(workers: Survey['lostGpus']): string {
  if (workers.length === 0) return '';
  const lost = workers.map((w) => w.name);
  return ` (${lost.length === 1 ? `worker ${lost[0]}` : `workers ${lost.join(', ')}`} reported GPUs before and now report${lost.length === 1 ? 's' : ''} none)`;
}

function describeRequest(run: StagedRun): string {
  const r = run.resources;
  const parts = [plural(r.cpus, 'CPU'), ...(r.gpus > 0 ? [plural(r.gpus, 'GPU')] : []), `${formatSize(r.memory)} memory`];
  if (r.disk > 0) parts.push(`${formatSize(r.disk)} disk`);
  return parts.join(', ');
}
