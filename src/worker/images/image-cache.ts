// Makes sure a run's Docker image is present: inspect locally, pull only when missing, one pull
// per image at a time however many runs ask (single-flight). It does not evict images yet and
// never decides a run's fate: it returns the image or throws an ImageUnavailableError.
import { errorMessage } from '../clock.js';
import { isRuntimeError, type ContainerRuntime, type ImageInfo } from '../docker/container-runtime.js';

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
  private readonly inFlight = new Map<string, Promise<ImageInfo>>();

  constructor(private readonly runtime: ContainerRuntime) {}

  /**
   * Resolves with the image's id and digest. Throws ImageUnavailableError when the image is
   * neither local nor pullable, and a RuntimeError('unreachable') when Docker is down.
   */
  ensure(ref: string): Promise<ImageInfo> {
    const key = normalizeImageRef(ref);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.fetch(key).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async fetch(ref: string): Promise<ImageInfo> {
    const local = await this.runtime.inspectImage(ref);
    if (local) return local;
    // A pinned `name@sha256:ID` (cl mimic) of an image built locally has no registry digest: the
    // part after '@' is the image id, so the image is found by its id.
    const pinnedId = /@(sha256:[0-9a-f]{64})$/.exec(ref)?.[1];
    const byId = pinnedId !== undefined ? await this.runtime.inspectImage(pinnedId) : null;
    if (byId && byId.id === pinnedId) return { ...byId, digest: ref };
    try {
      await this.runtime.pullImage(ref);
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
