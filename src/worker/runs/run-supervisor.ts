// Drives one run from acceptance to finish: dependencies and image, the container and its
// limits, then upload and finish. Every change of state goes through run-state's transition;
// this class does the I/O around it, leaning on run-dependencies, with-docker, container-watch and
// run-results, and keeps the run's record (run-records) so that a restarted worker takes the run
// up again where it was (`resume`). It never lets an error escape: a run always ends finished on
// the server, dropped as stale, handed back, or left for the next worker process when this one
// stops (its container running on, its files and record kept).
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { ApiError, type RunReport, type RunSpec } from '../../protocol/index.js';
import { errorMessage } from '../../common/error-message.js';
import type { Logger } from '../../common/log.js';
import type { CachedDependency } from '../deps/dependency-cache.js';
import type { HeldImage } from '../images/image-cache.js';
import { chownTree, removeTree, treeSize } from '../fs/tree.js';
import type { DependencyMount } from '../reads/run-paths.js';
import type { LiveRun } from '../reads/run-reads.js';
import { isRuntimeError, RUN_LABEL, WORK_DIR_LABEL, type LabelledContainer } from '../docker/container-runtime.js';
import { watchContainer } from './container-watch.js';
import { planContainer, PlanError, type MountPoint } from './container-plan.js';
import { stopModeOf, type RunContext } from './run-context.js';
import type { RunRecord } from './run-records.js';
import { createMountPoints, fetchDependencies, listDependencyMounts } from './run-dependencies.js';
import { moveResultsInPlace } from './results-in-place.js';
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
/** How long a stopping worker tries to hand a run back before it gives up (the server's check-in reconcile then settles it). */
const HAND_BACK_MS = 20_000;
/** How long a finished run waits for an unreachable Docker engine to remove its container. */
const REMOVE_PATIENCE_MS = 120_000;
const HAND_BACK_MESSAGE = 'The worker is shutting down (--pass-down-termination): the run goes back to the queue.';

export class RunSupervisor {
  readonly runDir: string;
  private state: RunState;
  /** Aborted by a kill while preparing, or by the worker stopping. */
  private readonly preparation = new AbortController();
  /**
   * Aborted when the worker stops and leaves the run to its next process: every wait of the run
   * ends, and nothing is undone (the container runs on; the files and the record stay).
   */
  private readonly detach = new AbortController();
  /** The worker is stopping with --pass-down-termination and gives this run back to the server. */
  private handingBack = false;
  private imageDigest: string | null = null;
  /** The image this run holds in the image cache (not evicted until released at clean-up). */
  private heldImage: HeldImage | null = null;
  private imageReleased = false;
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
    /** The record an earlier process of this worker left: the run is taken up where it was. */
    private readonly resumed: RunRecord | null = null,
  ) {
    this.runDir = path.join(ctx.runsDir, spec.uuid);
    this.log = ctx.log.child({ run: spec.uuid, assignment: assignmentId });
    if (resumed) {
      this.state = resumed.state;
      this.containerId = resumed.containerId;
      this.imageDigest = resumed.imageDigest;
      this.mountPoints = resumed.mountPoints;
      this.dependencyMounts = resumed.dependencyMounts;
      this.killRequestedAt = resumed.killRequestedAt;
      return;
    }
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
    this.persist();
  }

  /** The whole life of the run (or, resumed, the rest of it); resolves when it is over, never rejects. */
  async run(): Promise<void> {
    const onStop = (): void => this.onWorkerStop();
    if (this.ctx.stopSignal.aborted) onStop();
    else this.ctx.stopSignal.addEventListener('abort', onStop, { once: true });
    try {
      this.persist();
      const id = this.resumed ? await this.reattach() : await this.prepare();
      if (id !== null) await this.supervise(id);
      if (this.detach.signal.aborted) return;
      if (this.handingBack) await this.handBack();
      else if (this.state.stage === 'finalizing') await this.finalize();
    } catch (error) {
      if (!this.detach.signal.aborted) await this.recover(error);
    } finally {
      this.ctx.stopSignal.removeEventListener('abort', onStop);
      if (this.detach.signal.aborted && this.state.stage !== 'finished') {
        this.releaseDependencies();
        this.releaseImage();
      } else await this.cleanUp();
    }
  }

  /** The worker is stopping: leave the run to its next process, or with --pass-down-termination give it back. */
  private onWorkerStop(): void {
    if (stopModeOf(this.ctx.stopSignal) === 'detach') {
      this.detach.abort();
      this.preparation.abort();
      return;
    }
    // A run already uploading its results completes; the worker waits for it.
    if (this.state.stage !== 'preparing' && this.state.stage !== 'running') return;
    this.handingBack = true;
    this.dispatch({ type: 'hand_back', message: HAND_BACK_MESSAGE });
  }

  private dispatch(event: RunEvent): void {
    const { state, effects } = transition(this.state, event, this.ctx.clock.now());
    this.state = state;
    for (const effect of effects) {
      if (effect.type === 'report') {
        this.ctx.onChange();
        this.persist();
      } else if (effect.type === 'stop_container') this.stopContainer();
      else if (effect.type === 'cut_upload') this.armUploadCut();
      else this.preparation.abort();
    }
  }

  /** Saves what a restarted worker needs to take the run up again (on every change of stage). */
  private persist(): void {
    this.ctx.records.save({
      spec: this.spec,
      assignmentId: this.assignmentId,
      allocation: this.allocation,
      state: this.state,
      containerId: this.containerId,
      imageDigest: this.imageDigest,
      mountPoints: this.mountPoints,
      dependencyMounts: this.dependencyMounts,
      killRequestedAt: this.killRequestedAt,
    });
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
    const image = await this.callDocker(() => this.ctx.images.ensure(ref, showPull).then((held) => this.keepImage(held)), signal, 'image');
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
        // The id, not the name: the container gets the very image ensured (and recorded by its
        // digest) even if the name moves meanwhile (a later pull under --pull-policy always), and a
        // pinned ref may name a local image only by its id (see ImageCache).
        imageRef: image.id,
        logMaxBytes: LOG_MAX_BYTES,
      });
    } catch (error) {
      if (!(error instanceof PlanError)) throw error;
      this.dispatch({ type: 'prepare_failed', message: error.message });
      return null;
    }
    this.mountPoints = plan.mountPoints;
    this.dependencyMounts = listDependencyMounts(plan.spec.mounts, this.spec.uuid);
    this.imageDigest = image.digest;
    await createMountPoints(this.runDir, plan.mountPoints);
    if (this.ctx.chownTo) await chownTree(this.runDir, this.ctx.chownTo.uid, this.ctx.chownTo.gid);
    this.status('Starting container');
    const id = await this.callDocker(() => this.ctx.runtime.createContainer(plan.spec), signal, 'start');
    if (id === null) return null;
    this.containerId = id;
    this.persist();
    const started = await this.callDocker(() => this.ctx.runtime.startContainer(id), signal, 'start');
    // A kill or a stop may have come in while the container was being started. A worker that
    // leaves its runs to its next process leaves this one too: that process finds the container.
    if (started === null || this.state.stage !== 'preparing') {
      if (!this.detach.signal.aborted) this.stopContainer();
      return null;
    }
    this.dispatch({ type: 'container_started', dockerImage: image.digest });
    this.log.info(`Run started in container ${id.slice(0, 12)} (${image.digest})`);
    return id;
  }

  /** Holds the ensured image for the run; one ensured after clean-up (a kill did not wait for it) is let go at once. */
  private keepImage(image: HeldImage): HeldImage {
    if (this.imageReleased) image.release();
    else this.heldImage = image;
    return image;
  }

  private releaseImage(): void {
    this.imageReleased = true;
    this.heldImage?.release();
    this.heldImage = null;
  }

  /** withDocker, with its status texts and failure going to this run. */
  private callDocker<T>(call: () => Promise<T>, signal: AbortSignal, step: 'image' | 'start'): Promise<T | null> {
    return withDocker(this.ctx.docker, call, signal, step, {
      onStatus: (text) => this.status(text),
      onFailed: (message) => this.dispatch({ type: 'prepare_failed', message }),
    });
  }

  // ---- running ------------------------------------------------------------------------------

  /**
   * Watches the container until it ends. An exited container is removed at clean-up, after the
   * server has the results: once its init (PID 1) has exited, the kernel has ended every process
   * in it, so nothing writes into the run dir while the results are packed, and the user does not
   * wait for the removal (~0.1 s).
   */
  private async supervise(id: string): Promise<void> {
    await watchContainer({
      ctx: this.ctx,
      id,
      runDir: this.runDir,
      resources: this.spec.resources,
      // A re-attached run's time limit counts from its real start, not from the re-attach.
      startedAt: this.state.stage === 'running' ? this.state.stageSince : this.ctx.clock.now(),
      signal: this.detach.signal,
      stopRequested: () => this.state.stopReason !== null || this.state.killed,
      dispatch: (event) => this.dispatch(event),
    });
  }

  // ---- resuming -----------------------------------------------------------------------------

  /**
   * Takes up a run an earlier process of this worker held. Returns the id of its container to
   * supervise, or null when it goes straight on to finalizing (or has nothing left to do).
   */
  private async reattach(): Promise<string | null> {
    const stage = this.state.stage;
    this.log.info(`Taking the run up again after a worker restart (it was ${stage})`);
    if (stage === 'finished' || stage === 'finalizing') return null;
    const container = await this.findContainer();
    if (container === undefined) return null;
    if (stage === 'preparing' && (container === null || container.neverStarted)) {
      // Nothing of the run has executed yet: prepare it again (its dependencies are cached).
      if (container !== null) await this.ctx.runtime.removeContainer(container.id);
      this.containerId = null;
      return this.prepare();
    }
    if (container === null) {
      this.dispatch({ type: 'container_lost', message: "The run's container was gone when the worker restarted." });
      return null;
    }
    // Hold the cached dependencies the container mounts, so that they are not evicted under it.
    const held = await fetchDependencies(this.ctx.deps, this.spec.dependencies, this.preparation.signal, {
      onHeld: (cached) => this.held.push(cached),
      onProgress: () => {},
    });
    if (held === null) return null;
    this.containerId = container.id;
    if (stage === 'preparing') this.dispatch({ type: 'container_started', dockerImage: this.imageDigest ?? this.spec.resources.docker_image });
    this.log.info(`Re-attached to container ${container.id.slice(0, 12)} (${container.running ? 'running' : 'exited'})`);
    return container.id;
  }

  /** This run's container, found by its labels; null when there is none, undefined when the worker stops first. */
  private async findContainer(): Promise<LabelledContainer | null | undefined> {
    const labels = { [RUN_LABEL]: this.spec.uuid, [WORK_DIR_LABEL]: this.ctx.runsDir };
    let failure: string | null = null;
    const found = await withDocker(this.ctx.docker, () => this.ctx.runtime.listContainers(labels), this.preparation.signal, 'image', {
      onStatus: (text) => this.status(text),
      onFailed: (message) => (failure = message),
    });
    if (failure !== null) throw new Error(failure);
    if (found === null) return undefined;
    return found.find((c) => c.id === this.containerId) ?? found[0] ?? null;
  }

  /** Gives the run back to the server (--pass-down-termination), which stages it again. */
  private async handBack(): Promise<void> {
    const request = { ...finishRequest(this.state, this.ctx.clock.now(), this.ctx.hostname), restage: true };
    const answer = await this.send(
      'hand back',
      () => this.ctx.server.finishRun(this.spec.uuid, request, AbortSignal.timeout(HAND_BACK_MS)),
      AbortSignal.timeout(HAND_BACK_MS),
    );
    if (answer instanceof Error) this.log.warn(`Could not hand the run back: ${errorMessage(answer)}`);
    else if (answer === 'ok') this.log.info('Handed the run back to the server');
    this.dispatch({ type: 'finished' });
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

  /**
   * Removes the run's container; `patient`, it waits a while for a Docker engine that is
   * restarting (at clean-up, once the server has the run: never before the results upload).
   */
  private async removeContainer(patient = false): Promise<void> {
    const id = this.containerId;
    if (id === null) return;
    const patience = patient ? AbortSignal.any([this.ctx.stopSignal, AbortSignal.timeout(REMOVE_PATIENCE_MS)]) : null;
    for (;;) {
      try {
        await this.ctx.runtime.removeContainer(id);
        this.containerId = null;
        return;
      } catch (error) {
        if (isRuntimeError(error, 'unreachable')) {
          // Not patient: clean-up tries again, patiently, once the results are uploaded.
          if (patience === null) return;
          this.ctx.docker.markDown(error);
          if (await this.ctx.docker.waitUntilReachable(patience)) continue;
        }
        // Left for the worker's sweep, which removes containers of this work dir that no run owns.
        this.log.warn(`Could not remove container ${id.slice(0, 12)}: ${errorMessage(error)}`);
        return;
      }
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
    const stop = this.detach.signal;
    const cutOrStop = AbortSignal.any([stop, this.uploadCut.signal]);
    let uploaded = (await this.movedInPlace(dataSize))
      ? await this.send('hand over the results of', () => this.ctx.server.commitResultsInPlace(this.spec.uuid, this.assignmentId, stop))
      : await this.send(
          'upload the results of',
          () => this.ctx.server.uploadContents(this.spec.uuid, this.assignmentId, () => this.countUpload(this.keepSent(createResultsTar(this.runDir, rules, disk))), cutOrStop),
          cutOrStop,
        );
    clearTimeout(this.uploadCutTimer);
    if (this.uploadCut.signal.aborted && !stop.aborted) {
      this.status('Uploading stdout and stderr');
      uploaded = await this.send('upload the output of', () =>
        this.ctx.server.uploadContents(this.spec.uuid, this.assignmentId, () => this.keepSent(createOutputTar(this.runDir, disk)), stop),
      );
      if (uploaded === 'ok') uploaded = new Error('the upload was cut off after the kill; only stdout and stderr were kept');
    }
    // A worker leaving the run to its next process stops here: that process uploads again.
    if (uploaded === 'stale' || stop.aborted) return;
    if (uploaded instanceof Error) this.dispatch({ type: 'upload_failed', message: errorMessage(uploaded) });
    else if (this.sentTar) this.dispatch({ type: 'results_trimmed', limitBytes: disk, trimmed: this.sentTar.report });
    this.status('Finished');
    const finished = await this.send('report the end of', () =>
      this.ctx.server.finishRun(this.spec.uuid, finishRequest(this.state, this.ctx.clock.now(), this.ctx.hostname), stop),
    );
    if (stop.aborted) return;
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

  /**
   * On a worker sharing the server's file system, moves the run's files to where the server takes
   * them as its contents; false when they are to be uploaded: another file system, exclude
   * patterns or a disk limit to apply while packing, or a killed run (whose upload may be cut).
   */
  private async movedInPlace(dataSize: number | undefined): Promise<boolean> {
    const location = this.spec.results_location;
    if (location === undefined || this.state.killed || this.spec.exclude_patterns.length > 0) return false;
    const disk = this.spec.resources.disk;
    if (disk > 0 && (dataSize === undefined || dataSize > disk)) return false;
    return moveResultsInPlace(this.runDir, location, this.mountPoints);
  }

  /** sendRunCall for this run; a worker leaving its runs gives up the call unless `signal` says otherwise. */
  private send(
    what: string,
    call: () => Promise<{ accepted: boolean; reason?: string | undefined }>,
    signal: AbortSignal = this.detach.signal,
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
    if (this.state.stage === 'finalizing' && !this.detach.signal.aborted) {
      await this.finalize().catch((e: unknown) => this.log.error(`Could not finish the run: ${errorMessage(e)}`));
    }
  }

  private async cleanUp(): Promise<void> {
    await this.removeContainer(true);
    this.releaseDependencies();
    this.releaseImage();
    // Removed one name at a time inside held directories: should the container have outlived
    // removeContainer, its processes could still be swapping links into the tree.
    await removeTree(this.runDir).catch((error: unknown) => {
      this.log.warn(`Could not delete ${this.runDir}: ${errorMessage(error)}`);
    });
    // Last: until now a restart would have found the run and finished this clean-up.
    await this.ctx.records.remove(this.spec.uuid).catch((error: unknown) => {
      this.log.warn(`Could not remove the run's record: ${errorMessage(error)}`);
    });
  }

  private releaseDependencies(): void {
    for (const dep of this.held.splice(0)) dep.release();
  }
}
