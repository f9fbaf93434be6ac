// The life of one run on this worker as a pure function: (state, event, now) -> new state plus
// the effects the supervisor must carry out. It decides stages, timings and the final verdict
// (exit code, failure message, killed); it does no I/O and reads no clock.
import type { FinishRunRequest, ReportedRunState, RunProgress } from '../../protocol/index.js';
import { formatDuration, formatSize, formatTimeLimit } from '../../common/sizes.js';

export type RunStage = 'preparing' | 'running' | 'finalizing' | 'finished';

export interface RunState {
  readonly uuid: string;
  readonly assignmentId: string;
  readonly memoryLimitBytes: number;
  readonly stage: RunStage;
  /** Epoch ms when the worker accepted the run, and when the current stage began. */
  readonly acceptedAt: number;
  readonly stageSince: number;
  /** Seconds spent in each finished stage (the current one is added by `stageSeconds`). */
  readonly secondsPreparing: number;
  readonly secondsRunning: number;
  readonly secondsFinalizing: number;
  readonly runStatus: string;
  readonly dockerImage: string | null;
  readonly exitcode: number | null;
  readonly failureMessage: string | null;
  /** A user (or the server) asked for the kill; the run ends `killed`. */
  readonly killed: boolean;
  /** Why the container is being stopped (kill, time or disk limit), once it is. */
  readonly stopReason: string | null;
  readonly dataSize: number | null;
  readonly memoryMax: number | null;
  /** The container's latest counters (memory now, CPU seconds, CPU use as a fraction of its CPUs). */
  readonly stats: LiveStats | null;
  /** What the run was given here, recorded in its metadata: core indices and GPU UUIDs, comma-separated. */
  readonly cpuset: string | null;
  readonly gpuset: string | null;
}

export interface LiveStats {
  memory?: number;
  userSeconds?: number;
  systemSeconds?: number;
  cpuUsage?: number;
}

export type RunEvent =
  | { type: 'status'; text: string }
  | { type: 'container_started'; dockerImage: string }
  | { type: 'prepare_failed'; message: string }
  | { type: 'kill'; message: string }
  | { type: 'limit_exceeded'; message: string }
  /** The worker is shutting down with --pass-down-termination: stop, to give the run back to the server. */
  | { type: 'hand_back'; message: string }
  | { type: 'measured'; dataSize?: number; memoryMax?: number; stats?: LiveStats }
  | { type: 'container_exited'; exitCode: number; oomKilled: boolean }
  | { type: 'container_lost'; message: string }
  | { type: 'upload_failed'; message: string }
  /** The results upload left files out to stay within the disk request (`limitBytes`). */
  | { type: 'results_trimmed'; limitBytes: number; trimmed: TrimmedResults }
  | { type: 'finished' };

/** What a disk-budgeted results upload kept and left out (see fs/tar-budget). */
export interface TrimmedResults {
  keptBytes: number;
  droppedFiles: number;
  droppedBytes: number;
  cut: ReadonlyArray<{ name: string; keptBytes: number }>;
}

export type RunEffect =
  /** Check in now: the stage changed. */
  | { type: 'report' }
  /** Stop the container (SIGTERM, grace, SIGKILL); its exit arrives as `container_exited`. */
  | { type: 'stop_container' }
  /** Stop preparing: the run goes straight to finalizing. */
  | { type: 'cancel_preparation' }
  /** Killed while uploading: give the upload a short deadline, then keep only stdout and stderr. */
  | { type: 'cut_upload' };

export interface Transition {
  state: RunState;
  effects: RunEffect[];
}

export function initialRunState(
  run: { uuid: string; assignmentId: string; memoryLimitBytes: number; cpuset?: string; gpuset?: string },
  now: number,
): RunState {
  return {
    cpuset: null,
    gpuset: null,
    ...run,
    stage: 'preparing',
    acceptedAt: now,
    stageSince: now,
    secondsPreparing: 0,
    secondsRunning: 0,
    secondsFinalizing: 0,
    runStatus: 'Preparing',
    dockerImage: null,
    exitcode: null,
    failureMessage: null,
    killed: false,
    stopReason: null,
    dataSize: null,
    memoryMax: null,
    stats: null,
  };
}

export function transition(state: RunState, event: RunEvent, now: number): Transition {
  const same: Transition = { state, effects: [] };
  switch (event.type) {
    case 'status':
      return state.stage === 'finished' ? same : { state: { ...state, runStatus: event.text }, effects: [] };
    case 'measured':
      return {
        state: {
          ...state,
          dataSize: event.dataSize ?? state.dataSize,
          memoryMax: Math.max(state.memoryMax ?? 0, event.memoryMax ?? 0) || state.memoryMax,
          stats: event.stats ? { ...state.stats, ...event.stats } : state.stats,
        },
        effects: [],
      };
    case 'container_started':
      if (state.stage !== 'preparing') return same;
      return moveTo({ ...state, dockerImage: event.dockerImage, runStatus: 'Running' }, 'running', now);
    case 'prepare_failed':
      if (state.stage !== 'preparing') return same;
      return moveTo({ ...state, failureMessage: event.message, runStatus: 'Uploading results' }, 'finalizing', now);
    case 'kill':
      return onKill(state, event.message, now);
    case 'hand_back':
      if (state.stage === 'preparing') {
        const next = moveTo({ ...state, failureMessage: event.message, runStatus: event.message }, 'finalizing', now);
        return { state: next.state, effects: [{ type: 'cancel_preparation' }, ...next.effects] };
      }
      if (state.stage !== 'running' || state.stopReason !== null) return same;
      return { state: { ...state, stopReason: event.message, runStatus: event.message }, effects: [{ type: 'stop_container' }] };
    case 'limit_exceeded':
      if (state.stage !== 'running' || state.stopReason !== null) return same;
      return { state: { ...state, stopReason: event.message, runStatus: event.message }, effects: [{ type: 'stop_container' }] };
    case 'container_exited':
      if (state.stage !== 'running') return same;
      return moveTo(
        {
          ...state,
          exitcode: event.exitCode,
          failureMessage: verdict(state, event),
          // An OOM kill means the run reached its limit, whatever the last sample said.
          memoryMax: event.oomKilled ? oomPeak(state) : state.memoryMax,
          runStatus: 'Uploading results',
        },
        'finalizing',
        now,
      );
    case 'container_lost':
      if (state.stage !== 'running') return same;
      return moveTo({ ...state, failureMessage: event.message, runStatus: 'Uploading results' }, 'finalizing', now);
    case 'upload_failed': {
      const message = [state.failureMessage, `Could not upload results: ${event.message}`].filter(Boolean).join('. ');
      return { state: { ...state, failureMessage: message }, effects: [] };
    }
    case 'results_trimmed':
      if (state.stage !== 'finalizing' || event.trimmed.droppedFiles === 0) return same;
      return { state: { ...state, failureMessage: withTrimmedResults(state.failureMessage, event.limitBytes, event.trimmed) }, effects: [] };
    case 'finished':
      if (state.stage === 'finished') return same;
      return moveTo({ ...state, runStatus: 'Finished' }, 'finished', now);
  }
}

function onKill(state: RunState, message: string, now: number): Transition {
  const text = message.trim() || 'Kill requested';
  if (state.killed || state.stage === 'finished') return { state, effects: [] };
  if (state.stage === 'finalizing') {
    const failureMessage = [state.failureMessage, text].filter(Boolean).join('. ');
    return { state: { ...state, killed: true, failureMessage }, effects: [{ type: 'cut_upload' }] };
  }
  if (state.stage === 'preparing') {
    const next = moveTo({ ...state, killed: true, failureMessage: text, runStatus: 'Uploading results' }, 'finalizing', now);
    return { state: next.state, effects: [{ type: 'cancel_preparation' }, ...next.effects] };
  }
  const stopping = state.stopReason === null;
  return {
    state: { ...state, killed: true, stopReason: text, runStatus: 'Stopping: kill requested' },
    effects: stopping ? [{ type: 'stop_container' }] : [],
  };
}

/** The failure message of a finished container: kill first, then limits, OOM, exit code. */
function verdict(state: RunState, exit: { exitCode: number; oomKilled: boolean }): string | null {
  if (state.stopReason !== null) return state.stopReason;
  if (exit.oomKilled) return memoryExceededMessage(state.memoryLimitBytes, oomPeak(state));
  if (exit.exitCode !== 0) return `Exit code ${exit.exitCode}`;
  return null;
}

function oomPeak(state: RunState): number {
  return Math.max(state.memoryMax ?? 0, state.memoryLimitBytes);
}

/** `Memory limit 2g exceeded (peak 2.0g). Raise --request-memory.` */
export function memoryExceededMessage(limitBytes: number, peakBytes: number): string {
  return `Memory limit ${formatSize(limitBytes)} exceeded (peak ${formatPeak(peakBytes)}). Raise --request-memory.`;
}

/** `2.0g`: one decimal below 100 units, so a peak reads as a measurement next to the limit. */
function formatPeak(bytes: number): string {
  const text = formatSize(bytes);
  return /^\d{1,2}[kmgt]$/.test(text) ? text.replace(/([kmgt])$/, '.0$1') : text;
}

/** `Time limit 10m exceeded (ran 10m0s). Raise --request-time.` */
export function timeExceededMessage(limitSeconds: number, ranSeconds: number): string {
  return `Time limit ${formatTimeLimit(limitSeconds)} exceeded (ran ${formatDuration(ranSeconds)}). Raise --request-time.`;
}

/** The worker's work dir ran (nearly) full while the run wrote to it. */
export function diskFullMessage(freeBytes: number): string {
  return (
    `The worker's disk is full (${formatSize(freeBytes)} left in its work dir); the run was stopped so the worker can go on. ` +
    'Ask for the space the run needs with --request-disk, so it goes to a worker that has it.'
  );
}

/** `Disk limit 1g exceeded (wrote 1.1g). Raise --request-disk.` */
export function diskExceededMessage(limitBytes: number, wroteBytes: number): string {
  return `Disk limit ${formatSize(limitBytes)} exceeded (wrote ${formatSize(wroteBytes)}). Raise --request-disk.`;
}

/** `Kept 100m of the results; 1.9g in 3 files were not uploaded (stdout cut to its first 50m).` */
export function trimmedResultsMessage(trimmed: TrimmedResults): string {
  const files = trimmed.droppedFiles === 1 ? '1 file was' : `${trimmed.droppedFiles} files were`;
  const cuts = trimmed.cut.map((c) => `${c.name} cut to its first ${formatSize(c.keptBytes)}`).join(', ');
  const detail = cuts === '' ? '' : ` (${cuts})`;
  return `Kept ${formatSize(trimmed.keptBytes)} of the results; ${formatSize(trimmed.droppedBytes)} in ${files} not uploaded${detail}.`;
}

/**
 * The failure message once results were left out. A run that hit no limit yet did not fit (it
 * wrote up to its request, the archive's headers tipped it over, or it outran the disk watch)
 * fails too: ending `ready` would present an incomplete bundle as the run's whole output.
 */
function withTrimmedResults(failureMessage: string | null, limitBytes: number, trimmed: TrimmedResults): string {
  const kept = trimmedResultsMessage(trimmed);
  if (failureMessage === null) {
    return `Results did not fit the disk limit ${formatSize(limitBytes)}. ${kept} Raise --request-disk.`;
  }
  return `${failureMessage}${failureMessage.endsWith('.') ? '' : '.'} ${kept}`;
}

function moveTo(state: RunState, stage: RunStage, now: number): Transition {
  const elapsed = Math.max(0, (now - state.stageSince) / 1000);
  const next: RunState = {
    ...state,
    stage,
    stageSince: now,
    secondsPreparing: state.secondsPreparing + (state.stage === 'preparing' ? elapsed : 0),
    secondsRunning: state.secondsRunning + (state.stage === 'running' ? elapsed : 0),
    secondsFinalizing: state.secondsFinalizing + (state.stage === 'finalizing' ? elapsed : 0),
  };
  return { state: next, effects: [{ type: 'report' }] };
}

/** Seconds spent in `stage`, counting the current stage up to `now`. */
export function stageSeconds(state: RunState, stage: Exclude<RunStage, 'finished'>, now: number): number {
  const current = state.stage === stage ? Math.max(0, (now - state.stageSince) / 1000) : 0;
  const done = { preparing: state.secondsPreparing, running: state.secondsRunning, finalizing: state.secondsFinalizing };
  return done[stage] + current;
}

export function reportedState(state: RunState): ReportedRunState {
  return state.stage === 'finished' ? 'finalizing' : state.stage;
}

export function runProgress(state: RunState, now: number, remote: string): RunProgress {
  const running = stageSeconds(state, 'running', now);
  return {
    run_status: state.runStatus,
    started: Math.floor(state.acceptedAt / 1000),
    remote,
    time: running,
    time_preparing: stageSeconds(state, 'preparing', now),
    time_running: running,
    time_uploading_results: stageSeconds(state, 'finalizing', now),
    ...(state.dockerImage !== null ? { docker_image: state.dockerImage } : {}),
    ...(state.dataSize !== null ? { data_size: state.dataSize } : {}),
    ...(state.memoryMax !== null ? { memory_max: state.memoryMax } : {}),
    ...liveStatsProgress(state.stats),
    ...(state.cpuset !== null ? { cpuset: state.cpuset } : {}),
    ...(state.gpuset !== null ? { gpuset: state.gpuset } : {}),
  };
}

export function finishRequest(state: RunState, now: number, remote: string): FinishRunRequest {
  return {
    assignment_id: state.assignmentId,
    exitcode: state.exitcode,
    failure_message: state.failureMessage,
    killed: state.killed,
    progress: runProgress(state, now, remote),
  };
}

function liveStatsProgress(stats: LiveStats | null): RunProgress {
  if (stats === null) return {};
  const progress: RunProgress = {};
  if (stats.memory !== undefined) progress.memory = stats.memory;
  if (stats.userSeconds !== undefined) progress.time_user = stats.userSeconds;
  if (stats.systemSeconds !== undefined) progress.time_system = stats.systemSeconds;
  if (stats.cpuUsage !== undefined) progress.cpu_usage = stats.cpuUsage;
  return progress;
}
