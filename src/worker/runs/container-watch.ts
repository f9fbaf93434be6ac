// Watches a started run container until it exits: waits for the exit through Docker outages,
// enforces the time and disk limits, and samples memory and CPU. It reports everything as run
// events to the caller's dispatch and changes no state itself; it stops, kills or removes no
// container (a limit only dispatches limit_exceeded, whose effects the supervisor carries out).
import type { RunSpec } from '../../protocol/index.js';
import { errorMessage } from '../../common/error-message.js';
import { sleep } from '../../common/clock.js';
import { isRuntimeError, type ContainerExit } from '../docker/container-runtime.js';
import { treeSize } from '../fs/tree.js';
import { nextDiskCheckMs, type DiskSample } from './disk-watch.js';
import type { RunContext } from './run-context.js';
import { diskExceededMessage, timeExceededMessage, type LiveStats, type RunEvent } from './run-state.js';

/** Seconds between samples of the container's memory and CPU counters. */
const STATS_SECONDS = 1;
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

async function waitForExit({ ctx, id, signal, dispatch }: WatchedContainer): Promise<ContainerExit | { lost: string } | 'detached'> {
  for (;;) {
    if (signal.aborted) return 'detached';
    try {
      return await ctx.runtime.waitContainer(id, signal);
    } catch (error) {
      if (signal.aborted) return 'detached';
      if (isRuntimeError(error, 'unreachable')) {
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
    const [tree, layer, memoryMax] = await Promise.all([
      treeSize(runDir).catch(() => undefined),
      ctx.runtime.readWritableLayerSize(id).catch(() => null),
      ctx.runtime.readMemoryPeak(id).catch(() => null),
    ]);
    const at = ctx.clock.now();
    dispatch({ type: 'measured', ...(tree !== undefined ? { dataSize: tree } : {}), ...(memoryMax !== null ? { memoryMax } : {}) });
    if (tree === undefined) {
      waitMs = 1000;
      continue;
    }
    const wrote = tree + (layer ?? 0);
    if (disk > 0 && wrote > disk) dispatch({ type: 'limit_exceeded', message: diskExceededMessage(disk, wrote) });
    const latest = { bytes: wrote, at, scanMs: at - started };
    waitMs = nextDiskCheckMs(previous, latest, disk, ctx.monitorSeconds * 1000);
    previous = latest;
  }
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
