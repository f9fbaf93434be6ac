// Drives one run from acceptance to finish: dependencies and image, the container and its
// limits, then upload and finish. Every change of state goes through run-state's transition;
// this class does the I/O around it. It never lets an error escape: a run always ends either
// finished on the server, dropped as stale, or abandoned because the worker is stopping.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ApiError, type RunReport, type RunSpec } from '../../protocol/index.js';
import { formatDuration, formatSize } from '../../common/sizes.js';
import { errorMessage, sleep } from '../clock.js';
import type { CachedDependency } from '../deps/dependency-cache.js';
import { isRuntimeError, type ContainerExit } from '../docker/container-runtime.js';
import { chownTree, treeSize } from '../fs/tree.js';
import { ImageUnavailableError } from '../images/image-cache.js';
import { withRetry } from '../retry.js';
import { planContainer, PlanError, type MountPoint, type PlannedDependency } from './container-plan.js';
import type { RunContext } from './run-context.js';
import { finishRequest, initialRunState, reportedState, runProgress, transition, type RunEvent, type RunState } from './run-state.js';
import { compileExclusions } from './upload-exclusion.js';
import { createResultsTar } from './upload-tar.js';

const LOG_MAX_BYTES = 1024 * 1024;
/** setTimeout cannot wait longer than this; longer time limits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class RunSupervisor {
  readonly runDir: string;
  private state: RunState;
  /** Aborted by a kill while preparing, or by the worker stopping. */
  private readonly preparation = new AbortController();
  private readonly held: CachedDependency[] = [];
  private mountPoints: MountPoint[] = [];
  private containerId: string | null = null;

  constructor(
    private readonly ctx: RunContext,
    readonly spec: RunSpec,
    readonly assignmentId: string,
  ) {
    this.runDir = path.join(ctx.runsDir, spec.uuid);
    this.state = initialRunState(
      { uuid: spec.uuid, assignmentId, memoryLimitBytes: spec.resources.memory },
      ctx.clock.now(),
    );
  }

  get stage(): RunState['stage'] {
    return this.state.stage;
  }

  /** True once the server accepted the run's end: its slot is free while clean-up goes on. */
  get isFinished(): boolean {
    return this.state.stage === 'finished';
  }

  report(): RunReport {
    return {
      uuid: this.spec.uuid,
      assignment_id: this.assignmentId,
      state: reportedState(this.state),
      progress: runProgress(this.state, this.ctx.clock.now(), this.ctx.hostname),
    };
  }

  kill(message: string): void {
    this.dispatch({ type: 'kill', message });
  }

  /** The whole life of the run; resolves when it is over, never rejects. */
  async run(): Promise<void> {
    const onStop = (): void => {
      this.preparation.abort();
      this.stopContainer();
    };
    this.ctx.stopSignal.addEventListener('abort', onStop, { once: true });
    try {
      const id = await this.prepare();
      if (id !== null) await this.supervise(id);
      if (!this.ctx.stopSignal.aborted) await this.finalize();
    } catch (error) {
      await this.recover(error);
    } finally {
      this.ctx.stopSignal.removeEventListener('abort', onStop);
      await this.cleanUp();
    }
  }

  private dispatch(event: RunEvent): void {
    const { state, effects } = transition(this.state, event, this.ctx.clock.now());
    this.state = state;
    for (const effect of effects) {
      if (effect.type === 'report') this.ctx.onChange();
      else if (effect.type === 'stop_container') this.stopContainer();
      else this.preparation.abort();
    }
  }

  private status(text: string): void {
    this.dispatch({ type: 'status', text });
  }

  // ---- preparing ----------------------------------------------------------------------------

  /** Returns the started container's id, or null when the run will not run (failed, killed, stopping). */
  private async prepare(): Promise<string | null> {
    const signal = this.preparation.signal;
    await mkdir(this.runDir, { recursive: true });
    const deps = await this.fetchDependencies(signal);
    if (deps === null) return null;
    const ref = this.spec.resources.docker_image;
    this.status(`Preparing Docker image ${ref}`);
    const image = await this.withDocker(() => this.ctx.images.ensure(ref), signal, 'image');
    if (image === null || this.state.stage !== 'preparing') return null;
    let plan;
    try {
      plan = planContainer(this.spec, deps, {
        workerId: this.ctx.workerId,
        runDir: this.runDir,
        user: this.ctx.containerUser,
        cpuset: this.ctx.cpuset,
        imageRef: ref,
        logMaxBytes: LOG_MAX_BYTES,
      });
    } catch (error) {
      if (!(error instanceof PlanError)) throw error;
      this.dispatch({ type: 'prepare_failed', message: error.message });
      return null;
    }
    this.mountPoints = plan.mountPoints;
    await this.createMountPoints(plan.mountPoints);
    if (this.ctx.chownTo) await chownTree(this.runDir, this.ctx.chownTo.uid, this.ctx.chownTo.gid);
    this.status('Starting container');
    const id = await this.withDocker(() => this.ctx.runtime.createContainer(plan.spec), signal, 'start');
    if (id === null) return null;
    this.containerId = id;
    const started = await this.withDocker(() => this.ctx.runtime.startContainer(id), signal, 'start');
    // A kill or a stop may have come in while the container was being started.
    if (started === null || this.state.stage !== 'preparing') {
      this.stopContainer();
      return null;
    }
    this.dispatch({ type: 'container_started', dockerImage: image.digest });
    this.ctx.log.info(`Run ${this.spec.uuid} started in container ${id.slice(0, 12)} (${image.digest})`);
    return id;
  }

  private async fetchDependencies(signal: AbortSignal): Promise<PlannedDependency[] | null> {
    const total = this.spec.dependencies.length;
    let done = 0;
    if (total > 0) this.status(`Downloading dependencies (0 of ${total} done)`);
    const results = await Promise.allSettled(
      this.spec.dependencies.map(async (dep) => {
        const cached = await this.ctx.deps.acquire(dep, signal);
        this.held.push(cached);
        done += 1;
        this.status(`Downloading dependencies (${done} of ${total} done)`);
        const entries = cached.isDirectory && path.normalize(dep.child_path) === '.'
          ? (await readdir(cached.path, { withFileTypes: true })).map((e) => ({ name: e.name, isDirectory: e.isDirectory() }))
          : undefined;
        return { childPath: dep.child_path, hostPath: cached.path, isDirectory: cached.isDirectory, ...(entries ? { entries } : {}) };
      }),
    );
    if (signal.aborted) return null;
    const failed = results.findIndex((r) => r.status === 'rejected');
    if (failed === -1) return results.map((r) => (r as PromiseFulfilledResult<PlannedDependency>).value);
    const dep = this.spec.dependencies[failed];
    const reason = (results[failed] as PromiseRejectedResult).reason;
    this.dispatch({ type: 'prepare_failed', message: `Failed to download dependency ${dep?.child_path ?? '?'}: ${errorMessage(reason)}` });
    return null;
  }

  /**
   * Runs a Docker call, waiting for Docker while it is unreachable (the run stays preparing).
   * A permanent failure fails the run. Returns null when the run will not go on.
   */
  private async withDocker<T>(call: () => Promise<T>, signal: AbortSignal, step: 'image' | 'start'): Promise<T | null> {
    for (;;) {
      if (!this.ctx.docker.ok) {
        this.status(`Waiting for Docker: ${this.ctx.docker.message ?? 'unreachable'}`);
        if (!(await this.ctx.docker.waitUntilReachable(signal))) return null;
      }
      if (signal.aborted) return null;
      try {
        return await call();
      } catch (error) {
        if (isRuntimeError(error, 'unreachable')) {
          this.ctx.docker.markDown(error);
          continue;
        }
        if (signal.aborted) return null;
        const message = error instanceof ImageUnavailableError || step === 'image'
          ? errorMessage(error)
          : `Cannot start Docker container: ${errorMessage(error)}`;
        this.dispatch({ type: 'prepare_failed', message });
        return null;
      }
    }
  }

  /** Empty files and dirs where dependencies will be mounted, owned by us rather than by Docker. */
  private async createMountPoints(points: readonly MountPoint[]): Promise<void> {
    for (const point of points) {
      const target = path.join(this.runDir, point.path);
      await mkdir(path.dirname(target), { recursive: true });
      if (point.isDirectory) await mkdir(target, { recursive: true });
      else await writeFile(target, '', { flag: 'a' });
    }
  }

  // ---- running ------------------------------------------------------------------------------

  private async supervise(id: string): Promise<void> {
    const startedAt = this.ctx.clock.now();
    const watch = new AbortController();
    const timeLimit = this.armTimeLimit(startedAt, watch.signal);
    const monitor = this.monitor(id, watch.signal);
    try {
      const exit = await this.waitForExit(id);
      if ('lost' in exit) this.dispatch({ type: 'container_lost', message: exit.lost });
      else this.dispatch({ type: 'container_exited', exitCode: exit.exitCode, oomKilled: exit.oomKilled });
    } finally {
      watch.abort();
      clearTimeout(timeLimit.timer);
      await monitor;
    }
    await this.removeContainer();
  }

  private async waitForExit(id: string): Promise<ContainerExit | { lost: string }> {
    for (;;) {
      try {
        return await this.ctx.runtime.waitContainer(id);
      } catch (error) {
        if (isRuntimeError(error, 'unreachable')) {
          this.ctx.docker.markDown(error);
          this.status(`Waiting for Docker: ${this.ctx.docker.message ?? 'unreachable'}`);
          // A stopping worker does not wait for Docker forever: the start-up reconciler of the
          // next worker on this id removes the container.
          if (this.ctx.stopSignal.aborted) return { lost: 'The worker stopped while Docker was unreachable.' };
          await sleep(this.ctx.dockerRetrySeconds * 1000, this.ctx.stopSignal);
          await this.ctx.docker.check();
          continue;
        }
        return { lost: `The run's container is gone (${errorMessage(error)}).` };
      }
    }
  }

  private armTimeLimit(startedAt: number, signal: AbortSignal): { timer: NodeJS.Timeout | undefined } {
    const handle: { timer: NodeJS.Timeout | undefined } = { timer: undefined };
    const limitSeconds = this.spec.resources.time;
    if (limitSeconds <= 0) return handle;
    const arm = (): void => {
      const left = startedAt + limitSeconds * 1000 - this.ctx.clock.now();
      if (signal.aborted) return;
      if (left > 0) {
        handle.timer = setTimeout(arm, Math.min(left, MAX_TIMER_MS));
        return;
      }
      const ran = formatDuration((this.ctx.clock.now() - startedAt) / 1000);
      this.dispatch({
        type: 'limit_exceeded',
        message: `Time limit ${formatLimit(limitSeconds)} exceeded (ran ${ran}). Raise --request-time.`,
      });
    };
    arm();
    return handle;
  }

  /** Measures the run dir and memory every few seconds; enforces the disk limit. */
  private async monitor(id: string, signal: AbortSignal): Promise<void> {
    const disk = this.spec.resources.disk;
    while (!signal.aborted) {
      await sleep(this.ctx.monitorSeconds * 1000, signal);
      if (signal.aborted) break;
      // A failed measurement (a file vanishing mid-walk, Docker busy) just skips this sample.
      const dataSize = await treeSize(this.runDir).catch(() => undefined);
      const memoryMax = (await this.ctx.runtime.readMemoryPeak(id).catch(() => null)) ?? undefined;
      this.dispatch({ type: 'measured', ...(dataSize !== undefined ? { dataSize } : {}), ...(memoryMax !== undefined ? { memoryMax } : {}) });
      if (disk > 0 && dataSize !== undefined && dataSize > disk) {
        this.dispatch({
          type: 'limit_exceeded',
          message: `Disk limit ${formatSize(disk)} exceeded (used ${formatSize(dataSize)}). Raise --request-disk.`,
        });
      }
    }
  }

  private stopContainer(): void {
    const id = this.containerId;
    if (id === null) return;
    this.ctx.runtime.stopContainer(id, this.ctx.killGraceSeconds).catch((error: unknown) => {
      // Safe to only log: waitForExit keeps waiting, and cleanUp force-removes the container.
      this.ctx.log.warn(`Could not stop container ${id.slice(0, 12)} of run ${this.spec.uuid}: ${errorMessage(error)}`);
    });
  }

  private async removeContainer(): Promise<void> {
    const id = this.containerId;
    if (id === null) return;
    try {
      await this.ctx.runtime.removeContainer(id);
      this.containerId = null;
    } catch (error) {
      // Left for the start-up reconciler, which removes labelled containers nobody tracks.
      this.ctx.log.warn(`Could not remove container ${id.slice(0, 12)}: ${errorMessage(error)}`);
    }
  }

  // ---- finalizing ---------------------------------------------------------------------------

  private async finalize(): Promise<void> {
    const dataSize = await treeSize(this.runDir).catch(() => undefined);
    if (dataSize !== undefined) this.dispatch({ type: 'measured', dataSize });
    this.status('Uploading results');
    const rules = compileExclusions(
      this.mountPoints.map((m) => m.path),
      this.spec.exclude_patterns,
    );
    const uploaded = await this.send('upload the results of', () =>
      this.ctx.server.uploadContents(this.spec.uuid, this.assignmentId, () => createResultsTar(this.runDir, rules), this.ctx.stopSignal),
    );
    if (uploaded === 'stale') return;
    if (uploaded instanceof Error) this.dispatch({ type: 'upload_failed', message: errorMessage(uploaded) });
    this.status('Finished');
    const finished = await this.send('report the end of', () =>
      this.ctx.server.finishRun(this.spec.uuid, finishRequest(this.state, this.ctx.clock.now(), this.ctx.hostname), this.ctx.stopSignal),
    );
    if (finished instanceof Error) {
      this.ctx.log.error(`Could not report the end of run ${this.spec.uuid}: ${errorMessage(finished)}`);
      return;
    }
    if (finished === 'ok') {
      this.dispatch({ type: 'finished' });
      const verdict = this.state.failureMessage ?? 'ready';
      this.ctx.log.info(`Run ${this.spec.uuid} finished: ${this.state.killed ? 'killed' : verdict}`);
    }
  }

  /** One server call, retried through outages: 'ok', 'stale' (the assignment is no longer ours), or the error. */
  private async send(what: string, call: () => Promise<{ accepted: boolean; reason?: string | undefined }>): Promise<'ok' | 'stale' | Error> {
    try {
      const answer = await withRetry(call, { log: this.ctx.log, what: `${what} run ${this.spec.uuid}`, signal: this.ctx.stopSignal });
      if (answer.accepted) return 'ok';
      this.ctx.log.warn(`The server refused to ${what} run ${this.spec.uuid} (${answer.reason ?? 'stale assignment'}); dropping it.`);
      return 'stale';
    } catch (error) {
      if (this.ctx.stopSignal.aborted) return 'stale';
      if (error instanceof ApiError && ['conflict', 'not_found', 'forbidden'].includes(error.code)) {
        this.ctx.log.warn(`The server refused to ${what} run ${this.spec.uuid} (${error.message}); dropping it.`);
        return 'stale';
      }
      return error instanceof Error ? error : new Error(String(error));
    }
  }

  // ---- end ----------------------------------------------------------------------------------

  /** An unexpected error (a bug, a full disk): fail the run and still try to finish it. */
  private async recover(error: unknown): Promise<void> {
    const message = `Worker error: ${errorMessage(error)}`;
    this.ctx.log.error(`Run ${this.spec.uuid}: ${message}`);
    if (this.state.stage === 'preparing') this.dispatch({ type: 'prepare_failed', message });
    else if (this.state.stage === 'running') {
      this.stopContainer();
      this.dispatch({ type: 'container_lost', message });
    }
    if (this.state.stage === 'finalizing' && !this.ctx.stopSignal.aborted) {
      await this.finalize().catch((e: unknown) => this.ctx.log.error(`Run ${this.spec.uuid}: ${errorMessage(e)}`));
    }
  }

  private async cleanUp(): Promise<void> {
    await this.removeContainer();
    for (const dep of this.held.splice(0)) dep.release();
    await rm(this.runDir, { recursive: true, force: true }).catch((error: unknown) => {
      this.ctx.log.warn(`Could not delete ${this.runDir}: ${errorMessage(error)}`);
    });
  }
}

/** `10m`, `2h`, `90s`: a limit as users write it. */
export function formatLimit(seconds: number): string {
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}
