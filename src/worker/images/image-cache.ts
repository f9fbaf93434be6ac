// Makes sure a run's Docker image is present: inspect locally, pull only when missing, one pull
// per image at a time however many runs ask (single-flight), its progress shown to every run that
// waits for it. It does not evict images yet and never decides a run's fate: it returns the image
// or throws an ImageUnavailableError.
import { errorMessage } from '../../common/error-message.js';
import { isRuntimeError, type ContainerRuntime, type ImageInfo } from '../docker/container-runtime.js';
import { PullProgress } from './pull-progress.js';

/** Called while an image is pulled, with the percent pulled (null until a layer's size is known). */
export type PullListener = (percent: number | null) => void;

interface Pull {
  image: Promise<ImageInfo>;
  listeners: Set<PullListener>;
}

export class ImageUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ImageUnavailableError';
  }
}

/** Adds `:latest` when a reference names neither a tag nor a digest (`host:5000/img` has no tag). */
export function normalizeImageRef(ref: string): string {
  if (ref.includes('@')) return ref;
  const lastSegment = ref.slice(ref.lastIndexOf('/') + 1);
  return lastSegment.includes(':') ? ref : `${ref}:latest`;
}

export class ImageCache {
  private readonly inFlight = new Map<string, Pull>();

  constructor(private readonly runtime: ContainerRuntime) {}

  /**
   * Resolves with the image's id and digest; `onProgress` hears of the pull, if one is needed.
   * Throws ImageUnavailableError when the image is neither local nor pullable, and a
   * RuntimeError('unreachable') when Docker is down.
   */
  async ensure(ref: string, onProgress?: PullListener): Promise<ImageInfo> {
    const key = normalizeImageRef(ref);
    let pull = this.inFlight.get(key);
    if (!pull) {
      const listeners = new Set<PullListener>();
      const image = this.fetch(key, (percent) => listeners.forEach((l) => l(percent))).finally(() => this.inFlight.delete(key));
      pull = { image, listeners };
      this.inFlight.set(key, pull);
    }
    if (onProgress) pull.listeners.add(onProgress);
    try {
      return await pull.image;
    } finally {
      if (onProgress) pull.listeners.delete(onProgress);
    }
  }

  private async fetch(ref: string, onProgress: PullListener): Promise<ImageInfo> {
    const local = await this.runtime.inspectImage(ref);
    if (local) return local;
    // A pinned `name@sha256:ID` (cl mimic) of an image built locally has no registry digest: the
    // part after '@' is the image id, so the image is found by its id.
    const pinnedId = /@(sha256:[0-9a-f]{64})$/.exec(ref)?.[1];
    const byId = pinnedId !== undefined ? await this.runtime.inspectImage(pinnedId) : null;
    if (byId && byId.id === pinnedId) return { ...byId, digest: ref };
    try {
      const progress = new PullProgress();
      onProgress(null);
      await this.runtime.pullImage(ref, undefined, (event) => {
        progress.update(event);
        onProgress(progress.percent());
      });
    } catch (error) {
      if (isRuntimeError(error, 'unreachable')) throw error;
      throw new ImageUnavailableError(
        `Docker image '${ref}' not found locally and could not be pulled: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    const pulled = await this.runtime.inspectImage(ref);
    if (!pulled) throw new ImageUnavailableError(`Docker image '${ref}' was pulled but cannot be found afterwards.`);
    return pulled;
  }
}
