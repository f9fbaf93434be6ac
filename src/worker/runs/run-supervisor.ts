// Drives one run from acceptance to finish: dependencies and image, the container and its
// limits, then upload and finish. Every change of state goes through run-state's transition;
// this class does the I/O around it, leaning on run-dependencies, with-docker, container-watch and
// run-results. It never lets an error escape: a run always ends either finished on the server,
// dropped as stale, or abandoned because the worker is stopping.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ApiError, type RunReport, type RunSpec } from '../../protocol/index.js';
import { errorMessage } from '../../common/error-message.js';
import type { Logger } from '../../common/log.js';
import type { CachedDependency } from '../deps/dependency-cache.js';
import { chownTree, removeTree, treeSize } from '../fs/tree.js';
import type { DependencyMount } from '../reads/run-paths.js';
import type { LiveRun } from '../reads/run-reads.js';
import { watchContainer } from './container-watch.js';
import { planContainer, PlanError, type MountPoint } from './container-plan.js';
import type { RunContext } from './run-context.js';
import { createMountPoints, fetchDependencies, listDependencyMounts } from './run-dependencies.js';
import { countUpload, sendRunCall, uploadCutDelayMs } from './run-results.js';
import {
  finishRequest,
  initialRunState,
  reportedState,
  runProgress,
  transition,
  type RunEvent,
  type RunState,
} from './run-state.js';
import type { Allocation } from './resource-pool.js';
import { pullProgressText } from './progress-text.js';
import { compileExclusions } from './upload-exclusion.js';
import type { BudgetedTree } from '../fs/tree-tar.js';
import { createOutputTar, createResultsTar } from './upload-tar.js';
import { withDocker } from './with-docker.js';

const LOG_MAX_BYTES = 1024 * 1024;
/** A moving progress text (download, pull, upload) is sent to the server this often. */
const PROGRESS_REPORT_MS = 2_000;

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
  /** The results tar last handed to the server, for what its disk budget left out. */
  private sentTar: BudgetedTree | null = null;
  /** Every line carries the run and its assignment (and the worker, from the agent's logger). */
  private readonly log: Logger;

  constructor(
    private readonly ctx: RunContext,
    readonly spec: RunSpec,
    readonly assignmentId: string,
    /** The cores and GPUs this run holds on the worker; without one, the worker's whole cpuset. */
    private readonly allocation: Allocation | null = null,
  ) {
    this.runDir = path.join(ctx.runsDir, spec.uuid);
    this.log = ctx.log.child({ run: spec.uuid, assignment: assignmentId });
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
      containerAddress: async () => {
        if (!this.spec.resources.network) {
          throw new ApiError(
            'conflict',
            `Bundle ${this.spec.uuid} runs without a network (request_network false), so none of its ports can be reached; ` +
              'run it again with --request-network.',
          );
        }
        const id = this.containerId;
        if (id === null || this.state.stage !== 'running') return null;
        return this.ctx.runtime.containerAddress(id);
      },
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
    const fetched = await fetchDependencies(this.ctx.deps, this.spec.dependencies, signal, {
      onHeld: (cached) => this.held.push(cached),
      onProgress: (text) => this.progress(text),
    });
    if (fetched === null) return null;
    if ('failure' in fetched) {
      this.dispatch({ type: 'prepare_failed', message: fetched.failure });
      return null;
    }
    const deps = fetched.deps;
    const ref = this.spec.resources.docker_image;
    this.status(`Preparing Docker image ${ref}`);
    // A pull goes on for other runs after this one was killed: only a run still preparing shows it.
    const showPull = (percent: number | null): void => {
      if (!signal.aborted && this.state.stage === 'preparing') this.progress(pullProgressText(ref, percent));
    };
    const image = await this.callDocker(() => this.ctx.images.ensure(ref, showPull), signal, 'image');
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
    this.dependencyMounts = listDependencyMounts(plan.spec.mounts, this.spec.uuid);
    await createMountPoints(this.runDir, plan.mountPoints);
    if (this.ctx.chownTo) await chownTree(this.runDir, this.ctx.chownTo.uid, this.ctx.chownTo.gid);
    this.status('Starting container');
    const id = await this.callDocker(() => this.ctx.runtime.createContainer(plan.spec), signal, 'start');
    if (id === null) return null;
    this.containerId = id;
    const started = await this.callDocker(() => this.ctx.runtime.startContainer(id), signal, 'start');
    // A kill or a stop may have come in while the container was being started.
    if (started === null || this.state.stage !== 'preparing') {
      this.stopContainer();
      return null;
    }
    this.dispatch({ type: 'container_started', dockerImage: image.digest });
    this.log.info(`Run started in container ${id.slice(0, 12)} (${image.digest})`);
    return id;
  }

  /** withDocker, with its status texts and failure going to this run. */
  private callDocker<T>(call: () => Promise<T>, signal: AbortSignal, step: 'image' | 'start'): Promise<T | null> {
    return withDocker(this.ctx.docker, call, signal, step, {
      onStatus: (text) => this.status(text),
      onFailed: (message) => this.dispatch({ type: 'prepare_failed', message }),
    });
  }

  // ---- running ------------------------------------------------------------------------------

  private async supervise(id: string): Promise<void> {
    await watchContainer({
      ctx: this.ctx,
      id,
      runDir: this.runDir,
      resources: this.spec.resources,
      dispatch: (event) => this.dispatch(event),
    });
    await this.removeContainer();
  }

  private stopContainer(): void {
    const id = this.containerId;
    if (id === null) return;
    this.ctx.runtime.stopContainer(id, this.ctx.killGraceSeconds).catch((error: unknown) => {
      // Safe to only log: waitForExit keeps waiting, and cleanUp force-removes the container.
      this.log.warn(`Could not stop container ${id.slice(0, 12)}: ${errorMessage(error)}`);
    });
  }

  /** Arms the cut-off of a killed run's upload (once), uploadCutDelayMs after the kill request. */
  private armUploadCut(): void {
    if (this.uploadCutTimer !== undefined) return;
    const since = this.killRequestedAt ?? this.ctx.clock.now();
    const left = uploadCutDelayMs(since, this.ctx.clock.now());
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
      this.log.warn(`Could not remove container ${id.slice(0, 12)}: ${errorMessage(error)}`);
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
    const disk = this.spec.resources.disk;
    if (this.state.killed) this.armUploadCut();
    const cutOrStop = AbortSignal.any([this.ctx.stopSignal, this.uploadCut.signal]);
    let uploaded = await this.send(
      'upload the results of',
      () => this.ctx.server.uploadContents(this.spec.uuid, this.assignmentId, () => this.countUpload(this.keepSent(createResultsTar(this.runDir, rules, disk))), cutOrStop),
      cutOrStop,
    );
    clearTimeout(this.uploadCutTimer);
    if (this.uploadCut.signal.aborted && !this.ctx.stopSignal.aborted) {
      this.status('Uploading stdout and stderr');
      uploaded = await this.send('upload the output of', () =>
        this.ctx.server.uploadContents(this.spec.uuid, this.assignmentId, () => this.keepSent(createOutputTar(this.runDir, disk)), this.ctx.stopSignal),
      );
      if (uploaded === 'ok') uploaded = new Error('the upload was cut off after the kill; only stdout and stderr were kept');
    }
    if (uploaded === 'stale') return;
    if (uploaded instanceof Error) this.dispatch({ type: 'upload_failed', message: errorMessage(uploaded) });
    else if (this.sentTar) this.dispatch({ type: 'results_trimmed', limitBytes: disk, trimmed: this.sentTar.report });
    this.status('Finished');
    const finished = await this.send('report the end of', () =>
      this.ctx.server.finishRun(this.spec.uuid, finishRequest(this.state, this.ctx.clock.now(), this.ctx.hostname), this.ctx.stopSignal),
    );
    if (finished instanceof Error) {
      this.log.error(`Could not report the end of the run: ${errorMessage(finished)}`);
      return;
    }
    if (finished === 'ok') {
      this.dispatch({ type: 'finished' });
      const verdict = this.state.failureMessage ?? 'ready';
      this.log.info(`Run finished: ${this.state.killed ? 'killed' : verdict}`);
    }
  }

  /** sendRunCall for this run; a stopping worker gives up the call unless `signal` says otherwise. */
  private send(
    what: string,
    call: () => Promise<{ accepted: boolean; reason?: string | undefined }>,
    signal: AbortSignal = this.ctx.stopSignal,
  ): Promise<'ok' | 'stale' | Error> {
    return sendRunCall(this.log, what, call, signal);
  }

  /** Each try of an upload makes a new tar: what the last one left out is what the server got. */
  private keepSent(tar: BudgetedTree): Readable {
    this.sentTar = tar;
    return tar.stream;
  }

  /** The results tar, counted into this run's upload progress text. */
  private countUpload(tar: Readable): Readable {
    return countUpload(tar, this.state.dataSize, this.ctx.clock, (text) => this.progress(text));
  }

  // ---- end ----------------------------------------------------------------------------------

  /** An unexpected error (a bug, a full disk): fail the run and still try to finish it. */
  private async recover(error: unknown): Promise<void> {
    const message = `Worker error: ${errorMessage(error)}`;
    this.log.error(message);
    if (this.state.stage === 'preparing') this.dispatch({ type: 'prepare_failed', message });
    else if (this.state.stage === 'running') {
      this.stopContainer();
      this.dispatch({ type: 'container_lost', message });
    }
    if (this.state.stage === 'finalizing' && !this.ctx.stopSignal.aborted) {
      await this.finalize().catch((e: unknown) => this.log.error(`Could not finish the run: ${errorMessage(e)}`));
    }
  }

  private async cleanUp(): Promise<void> {
    await this.removeContainer();
    for (const dep of this.held.splice(0)) dep.release();
    // Removed one name at a time inside held directories: should the container have outlived
    // removeContainer, its processes could still be swapping links into the tree.
    await removeTree(this.runDir).catch((error: unknown) => {
      this.log.warn(`Could not delete ${this.runDir}: ${errorMessage(error)}`);
    });
  }
}
