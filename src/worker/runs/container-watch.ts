// Watches a started run container until it exits: waits for the exit through Docker outages,
// enforces the time and disk limits, and samples memory and CPU. It reports everything as run
// events to the caller's dispatch and changes no state itself; it stops, kills or removes no
// container (a limit only dispatches limit_exceeded, whose effects the supervisor carries out).
import { statfs } from 'node:fs/promises';
import type { RunSpec } from '../../protocol/index.js';
import { errorMessage } from '../../common/error-message.js';
import { sleep } from '../../common/clock.js';
import { isRuntimeError, type ContainerExit } from '../docker/container-runtime.js';
import { treeSize } from '../fs/tree.js';
import { nextDiskCheckMs, type DiskSample } from './disk-watch.js';
import type { RunContext } from './run-context.js';
import { diskExceededMessage, diskFullMessage, timeExceededMessage, type LiveStats, type RunEvent } from './run-state.js';

/** Seconds between samples of the container's memory and CPU counters. */
const STATS_SECONDS = 1;
/**
 * A shutting-down engine stops its containers, then stops answering about a second later: after a
 * container dies of a signal the worker did not send, the engine is probed this often, this many times.
 */
const ENGINE_PROBE_MS = 250;
const ENGINE_PROBES = 12;
/** setTimeout cannot wait longer than this; longer time limits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface WatchedContainer {
  ctx: RunContext;
  id: string;
  runDir: string;
  resources: RunSpec['resources'];
  /** When the container started (epoch ms): the time limit counts from here. */
  startedAt: number;
  /** Aborted when the worker leaves the run to its next process: watching ends, the container runs on. */
  signal: AbortSignal;
  /** True once the worker itself asked the container to stop (a kill, a limit, a hand-back). */
  stopRequested(): boolean;
  dispatch(event: RunEvent): void;
}

/**
 * Resolves once the container has exited (or is lost) and every watch on it has ended:
 * 'exited'; or 'detached' when `signal` ended the watch first.
 */
export async function watchContainer(w: WatchedContainer): Promise<'exited' | 'detached'> {
  const watch = new AbortController();
  const stopWatching = (): void => watch.abort();
  w.signal.addEventListener('abort', stopWatching, { once: true });
  const timeLimit = armTimeLimit(w, w.startedAt, watch.signal);
  const monitor = watchDisk(w, watch.signal);
  const stats = sampleStats(w, watch.signal);
  try {
    const exit = await waitForExit(w);
    if (exit === 'detached') return 'detached';
    // A run that filled the disk and ended before a sample caught it may have lost writes it
    // never noticed: it fails with the reason, not `ready` with truncated files.
    const free = await freeBytes(w.runDir);
    if (isDiskFull(free, w.ctx.diskReserveBytes)) w.dispatch({ type: 'limit_exceeded', message: diskFullMessage(free ?? 0) });
    if ('lost' in exit) w.dispatch({ type: 'container_lost', message: exit.lost });
    else w.dispatch({ type: 'container_exited', exitCode: exit.exitCode, oomKilled: exit.oomKilled });
    return 'exited';
  } finally {
    w.signal.removeEventListener('abort', stopWatching);
    watch.abort();
    clearTimeout(timeLimit.timer);
    await monitor;
    await stats;
  }
}

async function waitForExit({ ctx, id, signal, dispatch, stopRequested }: WatchedContainer): Promise<ContainerExit | { lost: string } | 'detached'> {
  let engineWentAway = false;
  for (;;) {
    if (signal.aborted) return 'detached';
    try {
      // An exit learnt early is taken only when the worker has not asked the container to stop:
      // a stop's exit is the engine's to tell (the signal may have ended the command).
      const exit = await ctx.runtime.waitContainer(id, signal, () => !stopRequested());
      // An engine that shuts down stops its containers with a signal first, and answers no new
      // request by then: say so, not just "Exit code 143".
      if (exit.exitCode >= 128 && !exit.oomKilled && !engineWentAway && !stopRequested()) engineWentAway = await engineGoesAway(ctx);
      if (engineWentAway && exit.exitCode >= 128) {
        return { lost: `The Docker engine stopped while the run ran, and stopped its container (exit code ${exit.exitCode}).` };
      }
      return exit;
    } catch (error) {
      if (signal.aborted) return 'detached';
      if (isRuntimeError(error, 'unreachable')) {
        engineWentAway = true;
        ctx.docker.markDown(error);
        dispatch({ type: 'status', text: `Waiting for Docker: ${ctx.docker.message ?? 'unreachable'}` });
        // A stopping worker does not wait for Docker forever: the start-up reconciler of the
        // next worker on this id removes the container.
        if (ctx.stopSignal.aborted) return { lost: 'The worker stopped while Docker was unreachable.' };
        await sleep(ctx.dockerRetrySeconds * 1000, AbortSignal.any([ctx.stopSignal, signal]));
        await ctx.docker.check();
        continue;
      }
      return { lost: `The run's container is gone (${errorMessage(error)}).` };
    }
  }
}

function armTimeLimit(w: WatchedContainer, startedAt: number, signal: AbortSignal): { timer: NodeJS.Timeout | undefined } {
  const handle: { timer: NodeJS.Timeout | undefined } = { timer: undefined };
  const limitSeconds = w.resources.time;
  if (limitSeconds <= 0) return handle;
  const arm = (): void => {
    const left = startedAt + limitSeconds * 1000 - w.ctx.clock.now();
    if (signal.aborted) return;
    if (left > 0) {
      handle.timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
      return;
    }
    const ran = (w.ctx.clock.now() - startedAt) / 1000;
    w.dispatch({ type: 'limit_exceeded', message: timeExceededMessage(limitSeconds, ran) });
  };
  arm();
  return handle;
}

/**
 * Measures what the run wrote (its dir plus the container's writable layer) as often as
 * nextDiskCheckMs says, and the memory peak with it; enforces the disk limit.
 */
async function watchDisk({ ctx, id, runDir, resources, dispatch }: WatchedContainer, signal: AbortSignal): Promise<void> {
  const disk = resources.disk;
  let previous: DiskSample | null = null;
  let waitMs = Math.min(1000, ctx.monitorSeconds * 1000);
  while (!signal.aborted) {
    await sleep(waitMs, signal);
    if (signal.aborted) break;
    const started = ctx.clock.now();
    // A failed measurement (a file vanishing mid-walk, Docker busy) just skips this sample.
    const [tree, layer, memoryMax, free] = await Promise.all([
      treeSize(runDir).catch(() => undefined),
      ctx.runtime.readWritableLayerSize(id).catch(() => null),
      ctx.runtime.readMemoryPeak(id).catch(() => null),
      freeBytes(runDir),
    ]);
    // The worker's own disk comes first: a run that would fill it is stopped while the worker
    // still has room to upload its results and keep its records.
    if (isDiskFull(free, ctx.diskReserveBytes)) dispatch({ type: 'limit_exceeded', message: diskFullMessage(free ?? 0) });
    const at = ctx.clock.now();
    dispatch({ type: 'measured', ...(tree !== undefined ? { dataSize: tree } : {}), ...(memoryMax !== null ? { memoryMax } : {}) });
    if (tree === undefined) {
      waitMs = 1000;
      continue;
    }
    const wrote = tree + (layer ?? 0);
    if (disk > 0 && wrote > disk) dispatch({ type: 'limit_exceeded', message: diskExceededMessage(disk, wrote) });
    const latest = { bytes: wrote, at, scanMs: at - started };
    // Measure sooner as the run nears its limit or the point where the worker's disk would be full.
    const room = free === null ? Infinity : wrote + free - ctx.diskReserveBytes / 2;
    const budget = Math.min(disk > 0 ? disk : Infinity, room);
    waitMs = nextDiskCheckMs(previous, latest, Number.isFinite(budget) ? Math.max(1, budget) : 0, ctx.monitorSeconds * 1000);
    previous = latest;
  }
}

/** Watches the engine for a moment after a container died of a signal nobody here sent: does it go away? */
async function engineGoesAway(ctx: RunContext): Promise<boolean> {
  for (let probe = 0; probe < ENGINE_PROBES; probe += 1) {
    const answers = await ctx.runtime.ping().then(() => true, () => false);
    if (!answers) return true;
    await sleep(ENGINE_PROBE_MS);
  }
  return false;
}

/** Less than half the worker's reserve left (or nothing at all): the run must not write more. */
function isDiskFull(free: number | null, reserveBytes: number): boolean {
  return free !== null && (free === 0 || free < reserveBytes / 2);
}

async function freeBytes(dir: string): Promise<number | null> {
  const disk = await statfs(dir).catch(() => null);
  return disk === null ? null : disk.bavail * disk.bsize;
}

/** Reads the container's memory and CPU counters every STATS_SECONDS (cheap: cgroup files). */
async function sampleStats({ ctx, id, resources, dispatch }: WatchedContainer, signal: AbortSignal): Promise<void> {
  const readStats = ctx.runtime.readStats?.bind(ctx.runtime);
  if (!readStats) return;
  let last: { at: number; cpu: number } | null = null;
  while (!signal.aborted) {
    const sample = await readStats(id).catch(() => null);
    const now = ctx.clock.now();
    if (sample !== null) {
      const stats: LiveStats = {};
      if (sample.memory !== null) stats.memory = sample.memory;
      if (sample.userSeconds !== null) stats.userSeconds = sample.userSeconds;
      if (sample.systemSeconds !== null) stats.systemSeconds = sample.systemSeconds;
      if (sample.cpuSeconds !== null) {
        if (last !== null && now > last.at) {
          stats.cpuUsage = Math.max(0, (sample.cpuSeconds - last.cpu) / ((now - last.at) / 1000) / resources.cpus);
        }
        last = { at: now, cpu: sample.cpuSeconds };
      }
      dispatch({ type: 'measured', stats, ...(sample.memoryMax !== null ? { memoryMax: sample.memoryMax } : {}) });
    }
    await sleep(STATS_SECONDS * 1000, signal);
  }
}
