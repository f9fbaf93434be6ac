// The seam between the worker and a container engine: the few operations a run needs, in terms
// that know nothing of Docker's API. Implementations: DockerRuntime (real) and FakeRuntime (tests).
// Callers must not depend on anything an implementation does beyond this contract.

import type { ContainerStats } from './cgroup-stats.js';

export type { ContainerStats } from './cgroup-stats.js';

export const RUN_LABEL = 'org.codalab.run';
export const WORKER_LABEL = 'org.codalab.worker';
/**
 * The directory holding the worker's run dirs. Two workers on one machine may carry the same id
 * (each for its own server); only the one with this work dir may treat the container as its own.
 */
export const WORK_DIR_LABEL = 'org.codalab.work-dir';

/**
 * The network a worker makes for runs that have a network. Unlike Docker's default bridge it lets
 * no container talk to another (a program a run serves on a port is reachable only from the
 * worker's host, and so through the server's netcat and proxy), while each reaches the outside.
 */
export const RUN_NETWORK = 'codalab-runs';

export interface Mount {
  /** Absolute host path. */
  source: string;
  /** Absolute path inside the container. */
  target: string;
  readOnly: boolean;
}

export interface ContainerSpec {
  name: string;
  image: string;
  /** argv; the image's entrypoint is not used. */
  command: string[];
  workingDir: string;
  env: Record<string, string>;
  /** `uid:gid` the command runs as. */
  user: string;
  mounts: Mount[];
  memoryBytes: number;
  cpus: number;
  /** CPU indices the container may use; empty = any. */
  cpuset: readonly number[];
  network: boolean;
  /** GPU UUIDs handed to the container through a device request; empty or absent = none. */
  gpus?: readonly string[];
  /** Size of /dev/shm; absent = the engine's default. */
  shmBytes?: number;
  /** Most processes at once; absent = no limit. */
  pidsLimit?: number;
  labels: Record<string, string>;
  /** Cap on the engine's own log of the container (its output goes to files anyway). */
  logMaxBytes: number;
}

export interface ContainerExit {
  exitCode: number;
  /** True when the kernel killed a process of the container for memory, even with exit code 0. */
  oomKilled: boolean;
  /** Seconds between start and exit, as the engine measured them; null if unknown. */
  ranSeconds: number | null;
}

export interface ImageInfo {
  id: string;
  /** `repo@sha256:…` when the image came from a registry, else `name@<image id>`. */
  digest: string;
  /** Bytes the engine counts for the image (its layers, shared ones included); absent when unknown. */
  sizeBytes?: number;
}

/** How a removal of an image ended: `in_use` when the engine refused (a container uses it, or it has other names). */
export type ImageRemoval = { outcome: 'removed' } | { outcome: 'gone' } | { outcome: 'in_use'; reason: string };

export interface LabelledContainer {
  id: string;
  labels: Record<string, string>;
  running: boolean;
  /** Never started (`docker create` only): no command of the run has executed in it. */
  neverStarted: boolean;
  /** When the engine created it (epoch ms). */
  createdAt: number;
}

export type RuntimeErrorKind = 'unreachable' | 'not_found' | 'failed';

/** Every failure of a runtime call, classified so callers can tell "Docker is down" apart. */
export class RuntimeError extends Error {
  constructor(
    readonly kind: RuntimeErrorKind,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'RuntimeError';
  }
}

export function isRuntimeError(error: unknown, kind: RuntimeErrorKind): error is RuntimeError {
  return error instanceof RuntimeError && error.kind === kind;
}

/** The parts of an engine pull progress event that the worker shows (others are left out). */
export interface PullEvent {
  /** The layer id; absent on events about the whole image. */
  id?: string;
  status?: string;
  /** Bytes of the layer downloaded so far, and its size, while it downloads. */
  current?: number;
  total?: number;
}

export interface ContainerRuntime {
  /** Where the engine is, for messages ("/var/run/docker.sock"). */
  readonly address: string;
  /** Resolves when the engine answers; throws RuntimeError('unreachable') otherwise. */
  ping(): Promise<void>;
  /** Null when the image is not present locally. */
  inspectImage(ref: string): Promise<ImageInfo | null>;
  /** Pulls from a registry, reporting progress events; throws RuntimeError('failed') with the engine's reason. */
  pullImage(ref: string, signal?: AbortSignal, onProgress?: (event: PullEvent) => void): Promise<void>;
  /**
   * Removes an image by id without forcing: the engine refuses while a container (running or
   * stopped) uses it or other names point at it, and that refusal is `in_use`, not an error.
   */
  removeImage(id: string): Promise<ImageRemoval>;
  /** Creates (not starts) a container and returns its id. */
  createContainer(spec: ContainerSpec): Promise<string>;
  startContainer(id: string): Promise<void>;
  /**
   * Waits for the container to exit and reports how it ended. An implementation may learn of the
   * exit before the engine reports it (see exit-report.ts); it then asks `acceptEarly` (true when
   * absent), and on false waits for the engine's report.
   */
  waitContainer(id: string, signal?: AbortSignal, acceptEarly?: () => boolean): Promise<ContainerExit>;
  /** SIGTERM, then SIGKILL after `graceSeconds`; resolves once it has stopped. A stopped container is fine. */
  stopContainer(id: string, graceSeconds: number): Promise<void>;
  /** Removes the container, forcing it if running; a missing container is fine. */
  removeContainer(id: string): Promise<void>;
  /** Containers (running or not) carrying all the given labels. */
  listContainers(labels: Record<string, string>): Promise<LabelledContainer[]>;
  /** Peak memory of a running container in bytes, when the engine can tell; else null. */
  readMemoryPeak(id: string): Promise<number | null>;
  /** Live memory and CPU counters of a running container; null (or absent) when the engine cannot tell. */
  readStats?(id: string): Promise<ContainerStats | null>;
  /** Bytes the container wrote to its own filesystem (outside bind mounts); null if unknown. */
  readWritableLayerSize(id: string): Promise<number | null>;
  /** An IP address of the running container that this host can connect to; null when it has no network. */
  containerAddress(id: string): Promise<string | null>;
}
