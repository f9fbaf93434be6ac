// The resources a run gets: its requests with the server's defaults filled in. Pure.
import type { Metadata, RunResources } from '../../protocol/index.js';

export interface ResourceDefaults {
  defaultCpuImage: string;
  defaultGpuImage: string;
}

export const DEFAULT_MEMORY = 2 * 1024 ** 3;

function numberOr(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) ? value : fallback;
}

export function resolveResources(metadata: Metadata, defaults: ResourceDefaults): RunResources {
  const gpus = numberOr(metadata.request_gpus, 0);
  const image = typeof metadata.request_docker_image === 'string' && metadata.request_docker_image !== ''
    ? metadata.request_docker_image
    : gpus > 0 ? defaults.defaultGpuImage : defaults.defaultCpuImage;
  return {
    docker_image: withDefaultTag(image),
    cpus: numberOr(metadata.request_cpus, 1),
    gpus,
    memory: numberOr(metadata.request_memory, DEFAULT_MEMORY),
    disk: numberOr(metadata.request_disk, 0),
    time: numberOr(metadata.request_time, 0),
    network: typeof metadata.request_network === 'boolean' ? metadata.request_network : true,
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
  return queue.startsWith('tag=') ? queue.slice(4) : queue;
}
