// Drives one run from acceptance to finish: dependencies and image, the container and its
// limits, then upload and finish. Every change of state goes through run-state's transition;
// this class does the I/O around it. It never lets an error escape: a run always ends either
// finished on the server, dropped as stale, or abandoned because the worker is stopping.
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { ApiError, type RunReport, type RunSpec } from '../../protocol/index.js';
import { errorMessage, sleep } from '../clock.js';
import type { CachedDependency } from '../deps/dependency-cache.js';
import { isRuntimeError, type ContainerExit } from '../docker/container-runtime.js';
import { chownTree, treeSize } from '../fs/tree.js';
import { ImageUnavailableError } from '../images/image-cache.js';
import type { DependencyMount } from '../reads/run-paths.js';
import type { LiveRun } from '../reads/run-reads.js';
import { withRetry } from '../retry.js';
import { planContainer, PlanError, type MountPoint, type PlannedDependency } from './container-plan.js';
import type { RunContext } from './run-context.js';
import {
  diskExceededMessage,
  finishRequest,
  initialRunState,
  reportedState,
  runProgress,
  timeExceededMessage,
  transition,
  type LiveStats,
  type RunEvent,
  type RunState,
} from './run-state.js';
import { nextDiskCheckMs, type DiskSample } from './disk-watch.js';
import type { Allocation } from './resource-pool.js';
import { dependencyProgressText, pullProgressText, uploadProgressText, type ByteProgress } from './progress-text.js';
import { compileExclusions } from './upload-exclusion.js';
import { createOutputTar, createResultsTar } from './upload-tar.js';

const LOG_MAX_BYTES = 1024 * 1024;
/**
 * A killed run's results upload is cut off this long after the kill request, and only stdout and
 * stderr are uploaded instead, so a kill ends the run within seconds even while a large upload runs.
 */
const KILL_UPLOAD_DEADLINE_MS = 12_000;
/** Least time the upload of a killed run gets, however late the container stopped. */
const MIN_KILLED_UPLOAD_MS = 1_000;
/** Seconds between samples of the container's memory and CPU counters. */
const STATS_SECONDS = 1;
/** A moving progress text (download, pull, upload) is sent to the server this often. */
const PROGRESS_REPORT_MS = 2_000;
/** setTimeout cannot wait longer than this; longer time limits are re-armed. */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class RunSupervisor {
  readonly runDir: string;
  private state: RunState;
  /** Aborted by a kill while preparing, or by the worker stopping. */
  private readonly preparation = new AbortController();
  private readonly held: CachedDependency[] = [];
  private mountPoints: MountPoint[] = [];
  /** Dependency mount points with their cached copies, for reads of the running bundle. */
  private dependencyMounts: DependencyMount[] = [];
  private containerId: string | null = null;
  /** When a kill was first requested (epoch ms), and the cut-off of the upload it arms. */
  private killRequestedAt: number | null = null;
  private readonly uploadCut = new AbortController();
  private uploadCutTimer: NodeJS.Timeout | undefined;
  private progressReportedAt = 0;

  constructor(
    private readonly ctx: RunContext,
    readonly spec: RunSpec,
    readonly assignmentId: string,
    /** The cores and GPUs this run holds on the worker; without one, the worker's whole cpuset. */
    private readonly allocation: Allocation | null = null,
  ) {
    this.runDir = path.join(ctx.runsDir, spec.uuid);
    this.state = initialRunState(
      {
        uuid: spec.uuid,
        assignmentId,
        memoryLimitBytes: spec.resources.memory,
        ...(allocation ? { cpuset: allocation.cpuset.join(','), gpuset: allocation.gpus.join(',') } : {}),
      },
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

  /** What relayed reads and writes see of this run: its files, and whether it still runs. */
  liveRun(): LiveRun {
    return {
      files: { runDir: this.runDir, mounts: this.dependencyMounts },
      isLive: () => this.state.stage === 'preparing' || this.state.stage === 'running',
      chownTo: this.ctx.chownTo,
    };
  }

  kill(message: string): void {
    this.killRequestedAt ??= this.ctx.clock.now();
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
      else if (effect.type === 'cut_upload') this.armUploadCut();
      else this.preparation.abort();
    }
  }

  private status(text: string): void {
    this.dispatch({ type: 'status', text });
  }

  /** A progress text: kept at once, and checked in with at most every PROGRESS_REPORT_MS. */
  private progress(text: string): void {
    if (text === this.state.runStatus) return;
    this.status(text);
    const now = this.ctx.clock.now();
    if (now - this.progressReportedAt < PROGRESS_REPORT_MS) return;
    this.progressReportedAt = now;
    this.ctx.onChange();
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
    // A pull goes on for other runs after this one was killed: only a run still preparing shows it.
    const showPull = (percent: number | null): void => {
      if (!signal.aborted && this.state.stage === 'preparing') this.progress(pullProgressText(ref, percent));
    };
    const image = await this.withDocker(() => this.ctx.images.ensure(ref, showPull), signal, 'image');
    if (image === null || this.state.stage !== 'preparing') return null;
    let plan;
    try {
      plan = planContainer(this.spec, deps, {
        workerId: this.ctx.workerId,
        runDir: this.runDir,
        user: this.ctx.containerUser,
        cpuset: this.allocation?.cpuset ?? this.ctx.cpuset,
        gpus: this.allocation?.gpus ?? [],
        ...(this.ctx.shmBytes !== undefined ? { shmBytes: this.ctx.shmBytes } : {}),
        ...(this.ctx.pidsLimit !== undefined ? { pidsLimit: this.ctx.pidsLimit } : {}),
        // A pinned ref may name a local image only by its id (see ImageCache), so use the id.
        imageRef: ref.includes('@') ? image.id : ref,
        logMaxBytes: LOG_MAX_BYTES,
      });
    } catch (error) {
      if (!(error instanceof PlanError)) throw error;
      this.dispatch({ type: 'prepare_failed', message: error.message });
      return null;
    }
    this.mountPoints = plan.mountPoints;
    const home = `/${this.spec.uuid}/`;
    this.dependencyMounts = plan.spec.mounts
      .filter((m) => m.readOnly && m.target.startsWith(home))
      .map((m) => ({ path: m.target.slice(home.length), hostPath: m.source }));
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
    // Bytes of each dependency being downloaded; cached ones never show up here.
    const downloads = new Map<number, ByteProgress>();
    const results = await Promise.allSettled(
      this.spec.dependencies.map(async (dep, i) => {
        const cached = await this.ctx.deps.acquire(dep, signal, (progress) => {
          downloads.set(i, progress);
          this.progress(dependencyProgressText([...downloads.values()]));
        });
        this.held.push(cached);
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
        // A kill does not wait for a call that cannot be cancelled (an image pull from a slow registry).
        return await untilAborted(call(), signal);
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
    const stats = this.sampleStats(id, watch.signal);
    try {
      const exit = await this.waitForExit(id);
      if ('lost' in exit) this.dispatch({ type: 'container_lost', message: exit.lost });
      else this.dispatch({ type: 'container_exited', exitCode: exit.exitCode, oomKilled: exit.oomKilled });
    } finally {
      watch.abort();
      clearTimeout(timeLimit.timer);
      await monitor;
      await stats;
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
      const ran = (this.ctx.clock.now() - startedAt) / 1000;
      this.dispatch({ type: 'limit_exceeded', message: timeExceededMessage(limitSeconds, ran) });
    };
    arm();
    return handle;
  }

  /**
   * Measures what the run wrote (its dir plus the container's writable layer) as often as
   * nextDiskCheckMs says, and the memory peak with it; enforces the disk limit.
   */
  private async monitor(id: string, signal: AbortSignal): Promise<void> {
    const disk = this.spec.resources.disk;
    let previous: DiskSample | null = null;
    let waitMs = Math.min(1000, this.ctx.monitorSeconds * 1000);
    while (!signal.aborted) {
      await sleep(waitMs, signal);
      if (signal.aborted) break;
      const started = this.ctx.clock.now();
      // A failed measurement (a file vanishing mid-walk, Docker busy) just skips this sample.
      const [tree, layer, memoryMax] = await Promise.all([
        treeSize(this.runDir).catch(() => undefined),
        this.ctx.runtime.readWritableLayerSize(id).catch(() => null),
        this.ctx.runtime.readMemoryPeak(id).catch(() => null),
      ]);
      const at = this.ctx.clock.now();
      this.dispatch({ type: 'measured', ...(tree !== undefined ? { dataSize: tree } : {}), ...(memoryMax !== null ? { memoryMax } : {}) });
      if (tree === undefined) {
        waitMs = 1000;
        continue;
      }
      const wrote = tree + (layer ?? 0);
      if (disk > 0 && wrote > disk) this.dispatch({ type: 'limit_exceeded', message: diskExceededMessage(disk, wrote) });
      const latest = { bytes: wrote, at, scanMs: at - started };
      waitMs = nextDiskCheckMs(previous, latest, disk, this.ctx.monitorSeconds * 1000);
      previous = latest;
    }
  }

  /** Reads the container's memory and CPU counters every STATS_SECONDS (cheap: cgroup files). */
  private async sampleStats(id: string, signal: AbortSignal): Promise<void> {
    const readStats = this.ctx.runtime.readStats?.bind(this.ctx.runtime);
    if (!readStats) return;
    let last: { at: number; cpu: number } | null = null;
    while (!signal.aborted) {
      const sample = await readStats(id).catch(() => null);
      const now = this.ctx.clock.now();
      if (sample !== null) {
        const stats: LiveStats = {};
        if (sample.memory !== null) stats.memory = sample.memory;
        if (sample.userSeconds !== null) stats.userSeconds = sample.userSeconds;
        if (sample.systemSeconds !== null) stats.systemSeconds = sample.systemSeconds;
        if (sample.cpuSeconds !== null) {
          if (last !== null && now > last.at) {
            stats.cpuUsage = Math.max(0, (sample.cpuSeconds - last.cpu) / ((now - last.at) / 1000) / this.spec.resources.cpus);
          }
          last = { at: now, cpu: sample.cpuSeconds };
        }
        this.dispatch({ type: 'measured', stats, ...(sample.memoryMax !== null ? { memoryMax: sample.memoryMax } : {}) });
      }
      await sleep(STATS_SECONDS * 1000, signal);
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

  /** Passes the upload through, updating run_status ("Uploading results: 300m of 1g") twice a second. */
  private countUpload(tar: Readable): Readable {
    const total = this.state.dataSize;
    let sent = 0;
    let shownAt = 0;
    const counter = new Transform({
      transform: (chunk: Buffer, _encoding, callback) => {
        sent += chunk.length;
        const now = this.ctx.clock.now();
        if (now - shownAt >= 500) {
          shownAt = now;
          this.progress(uploadProgressText(sent, total));
        }
        callback(null, chunk);
      },
    });
    tar.on('error', (error) => counter.destroy(error));
    return tar.pipe(counter);
  }

  /** Arms the cut-off of a killed run's upload (once): KILL_UPLOAD_DEADLINE_MS after the kill request. */
  private armUploadCut(): void {
    if (this.uploadCutTimer !== undefined) return;
    const since = this.killRequestedAt ?? this.ctx.clock.now();
    const left = Math.max(MIN_KILLED_UPLOAD_MS, since + KILL_UPLOAD_DEADLINE_MS - this.ctx.clock.now());
    this.uploadCutTimer = setTimeout(() => this.uploadCut.abort(), left);
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
    if (this.state.killed) this.armUploadCut();
    const cutOrStop = AbortSignal.any([this.ctx.stopSignal, this.uploadCut.signal]);
    let uploaded = await this.send(
      'upload the results of',
      () => this.ctx.server.uploadContents(this.spec.uuid, this.assignmentId, () => this.countUpload(createResultsTar(this.runDir, rules)), cutOrStop),
      cutOrStop,
    );
    clearTimeout(this.uploadCutTimer);
    if (this.uploadCut.signal.aborted && !this.ctx.stopSignal.aborted) {
      this.status('Uploading stdout and stderr');
      uploaded = await this.send('upload the output of', () =>
        this.ctx.server.uploadContents(this.spec.uuid, this.assignmentId, () => createOutputTar(this.runDir), this.ctx.stopSignal),
      );
      if (uploaded === 'ok') uploaded = new Error('the upload was cut off after the kill; only stdout and stderr were kept');
    }
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
  private async send(
    what: string,
    call: () => Promise<{ accepted: boolean; reason?: string | undefined }>,
    signal: AbortSignal = this.ctx.stopSignal,
  ): Promise<'ok' | 'stale' | Error> {
    try {
      const answer = await withRetry(call, { log: this.ctx.log, what: `${what} run ${this.spec.uuid}`, signal });
      if (answer.accepted) return 'ok';
      this.ctx.log.warn(`The server refused to ${what} run ${this.spec.uuid} (${answer.reason ?? 'stale assignment'}); dropping it.`);
      return 'stale';
    } catch (error) {
      if (signal.aborted) return 'stale';
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

/** Settles like `promise`, or rejects as soon as `signal` aborts. */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new Error('aborted'));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new Error('aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
