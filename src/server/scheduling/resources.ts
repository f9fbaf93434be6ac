// The resources a run gets: its requests with the server's defaults filled in, and the server's
// maxima and minima that a request must stay within. Pure.
import { formatSize, formatTimeLimit } from '../../common/sizes.js';
import { stripQueuePrefix, type Metadata, type RunResources } from '../../protocol/index.js';

export interface ResourceDefaults {
  defaultCpuImage: string;
  defaultGpuImage: string;
  /** Network access of runs that do not say (`--request-network`); true unless the server says otherwise. */
  defaultNetwork?: boolean;
  /** Server maxima; a run naming no disk or time limit gets the maximum. */
  limits?: RequestLimits;
}

export const DEFAULT_MEMORY = 2 * 1024 ** 3;

/** Server-side bounds on run requests (`cl-server --max-request-memory` and friends); null = no bound. */
export interface RequestLimits {
  maxRequestMemory: number | null;
  /** Smallest memory a run may ask for (default 4m): below it a container cannot even start. */
  minRequestMemory: number;
  maxRequestDisk: number | null;
  maxRequestTime: number | null;
  maxRequestCpus: number | null;
  maxRequestGpus: number | null;
}

export const NO_REQUEST_LIMITS: RequestLimits = Object.freeze({
  maxRequestMemory: null,
  minRequestMemory: 4 * 1024 ** 2,
  maxRequestDisk: null,
  maxRequestTime: null,
  maxRequestCpus: null,
  maxRequestGpus: null,
});

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

export function resolveResources(metadata: Metadata, defaults: ResourceDefaults): RunResources {
  const gpus = numberOr(metadata.request_gpus, 0);
  const image = typeof metadata.request_docker_image === 'string' && metadata.request_docker_image !== ''
    ? metadata.request_docker_image
    : gpus > 0 ? defaults.defaultGpuImage : defaults.defaultCpuImage;
  const resources: RunResources = {
    docker_image: withDefaultTag(image),
    cpus: numberOr(metadata.request_cpus, 1),
    gpus,
    // The default never exceeds the server's maximum, or every run without a request would fail.
    memory: numberOr(metadata.request_memory, Math.min(DEFAULT_MEMORY, defaults.limits?.maxRequestMemory ?? Infinity)),
    disk: numberOr(metadata.request_disk, 0),
    time: numberOr(metadata.request_time, 0),
    network: typeof metadata.request_network === 'boolean' ? metadata.request_network : (defaults.defaultNetwork ?? true),
  };
  return defaults.limits ? applyLimitDefaults(resources, defaults.limits) : resources;
}

/**
 * The first request (defaults applied) outside the server's bounds, as a message giving the
 * limit and the fix; null when every request is within them.
 */
export function requestLimitViolation(resources: RunResources, limits: RequestLimits): string | null {
  const over = (flag: string, asked: string, limit: string): string =>
    `${flag} ${asked} is above this server's maximum of ${limit}; ask for at most ${limit}.`;
  if (limits.maxRequestMemory !== null && resources.memory > limits.maxRequestMemory) {
    return over('--request-memory', formatSize(resources.memory), formatSize(limits.maxRequestMemory));
  }
  if (resources.memory < limits.minRequestMemory) {
    const min = formatSize(limits.minRequestMemory);
    return `--request-memory ${formatSize(resources.memory)} is below this server's minimum of ${min}; ask for at least ${min}.`;
  }
  if (limits.maxRequestDisk !== null && resources.disk > limits.maxRequestDisk) {
    return over('--request-disk', formatSize(resources.disk), formatSize(limits.maxRequestDisk));
  }
  if (limits.maxRequestTime !== null && resources.time > limits.maxRequestTime) {
    return over('--request-time', formatTimeLimit(resources.time), formatTimeLimit(limits.maxRequestTime));
  }
  if (limits.maxRequestCpus !== null && resources.cpus > limits.maxRequestCpus) {
    return over('--request-cpus', String(resources.cpus), String(limits.maxRequestCpus));
  }
  if (limits.maxRequestGpus !== null && resources.gpus > limits.maxRequestGpus) {
    return over('--request-gpus', String(resources.gpus), String(limits.maxRequestGpus));
  }
  return null;
}

/** With a server maximum, a run that names no disk or time limit gets the maximum rather than none. */
export function applyLimitDefaults(resources: RunResources, limits: RequestLimits): RunResources {
  return {
    ...resources,
    disk: resources.disk === 0 && limits.maxRequestDisk !== null ? limits.maxRequestDisk : resources.disk,
    time: resources.time === 0 && limits.maxRequestTime !== null ? limits.maxRequestTime : resources.time,
  };
}

/** `name` means `name:latest`; digests (`name@sha256:...`) and explicit tags are kept. */
export function withDefaultTag(image: string): string {
  if (image.includes('@')) return image;
  const lastSegment = image.slice(image.lastIndexOf('/') + 1);
  return lastSegment.includes(':') ? image : `${image}:latest`;
}

/** The queue a run asked for, without the optional `tag=` prefix. */
export function requestedQueue(metadata: Metadata): string | null {
  const queue = metadata.request_queue;
  if (typeof queue !== 'string' || queue === '') return null;
  return stripQueuePrefix(queue);
}
