// What a run supervisor is given by the agent: the collaborators it calls and the few settings
// it needs. A plain bag of dependencies, so supervisors never reach for globals.
import type { Readable } from 'node:stream';
import type { AcceptedResponse, FinishRunRequest } from '../../protocol/index.js';
import type { Clock } from '../../common/clock.js';
import type { DependencySource } from '../deps/dependency-source.js';
import type { ContainerRuntime } from '../docker/container-runtime.js';
import type { DockerHealth } from '../docker/docker-health.js';
import type { ImageCache } from '../images/image-cache.js';
import type { Logger } from '../../common/log.js';
import type { RunRecordSink } from './run-records.js';

/**
 * What a stopping worker does with the runs it holds: leave them to its next process (their
 * containers run on), or stop them and give them back to the server (--pass-down-termination).
 * It travels as the reason of the stop signal.
 */
export type StopMode = 'detach' | 'hand-back';

export function stopModeOf(signal: AbortSignal): StopMode {
  return signal.reason === 'hand-back' ? 'hand-back' : 'detach';
}

/** The server calls a run makes once it has been accepted. */
export interface RunServerCalls {
  uploadContents(uuid: string, assignmentId: string, makeBody: () => Readable, signal?: AbortSignal): Promise<AcceptedResponse>;
  finishRun(uuid: string, body: FinishRunRequest, signal?: AbortSignal): Promise<AcceptedResponse>;
  /** The run's files are at its results_location: the server takes them as its contents. */
  commitResultsInPlace(uuid: string, assignmentId: string, signal?: AbortSignal): Promise<AcceptedResponse>;
}

export interface RunContext {
  workerId: string;
  /** Sent as `remote` in progress reports. */
  hostname: string;
  runsDir: string;
  /** Owner given to the run dir before the container starts; null to leave it as created. */
  chownTo: { uid: number; gid: number } | null;
  /** `uid:gid` the container runs as. */
  containerUser: string;
  cpuset: readonly number[];
  /** /dev/shm size and process limit of run containers; absent = the engine's defaults. */
  shmBytes?: number;
  pidsLimit?: number;
  killGraceSeconds: number;
  /** Free space the worker keeps on its work dir's disk: a run that eats half of it is stopped. */
  diskReserveBytes: number;
  /** Seconds between measurements (run dir size, memory) while running. */
  monitorSeconds: number;
  dockerRetrySeconds: number;
  server: RunServerCalls;
  runtime: ContainerRuntime;
  docker: DockerHealth;
  images: ImageCache;
  deps: DependencySource;
  log: Logger;
  clock: Clock;
  /** Aborted when the worker stops, with a StopMode as its reason. */
  stopSignal: AbortSignal;
  /** Where each run's record is kept for a restarted worker. */
  records: RunRecordSink;
  /** Asks the agent to check in now (a run changed stage, or its progress text moved on). */
  onChange(): void;
}
