// Makes sure a run's Docker image is present and holds it for the run: inspect locally, pull per
// the pull policy, one pull per image at a time however many runs ask (single-flight), its
// progress shown to every run that waits for it. With a cap, it evicts the least recently used
// images that this worker pulled and no run holds (see PulledImages). It never decides a run's
// fate: it returns the held image or throws an ImageUnavailableError.
import { errorMessage } from '../../common/error-message.js';
import { systemClock, type Clock } from '../../common/clock.js';
import { silentLogger, type Logger } from '../../common/log.js';
import { isRuntimeError, type ContainerRuntime, type ImageInfo } from '../docker/container-runtime.js';
import { PullProgress } from './pull-progress.js';
import { PulledImages } from './pulled-images.js';
import type { PullPolicy } from './pull-policy.js';

/** Called while an image is pulled, with the percent pulled (null until a layer's size is known). */
export type PullListener = (percent: number | null) => void;

/** An image a run holds: it is not evicted until `release()` (which may be called more than once). */
export interface HeldImage extends ImageInfo {
  release(): void;
}

export interface ImageCacheOptions {
  runtime: ContainerRuntime;
  pullPolicy?: PullPolicy;
  /** Cap on the images this worker pulled, in bytes; null or absent = no eviction. */
  maxBytes?: number | null;
  /** The JSON file recording the images this worker pulled; absent = nothing is recorded or evicted. */
  recordFile?: string;
  clock?: Clock;
  log?: Logger;
}

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
  private readonly runtime: ContainerRuntime;
  private readonly pullPolicy: PullPolicy;
  private readonly maxBytes: number | null;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly record: Promise<PulledImages | null>;
  private readonly inFlight = new Map<string, Pull>();
  /** Runs holding each image, by image id. */
  private readonly holds = new Map<string, number>();
  /** ensure() calls under way: eviction waits for none to be, so it never removes an image one just found. */
  private ensuring = 0;
  /** The latest eviction pass; ensure() waits for it before it looks for an image. */
  private eviction: Promise<void> = Promise.resolve();

  constructor(options: ImageCacheOptions) {
    this.runtime = options.runtime;
    this.pullPolicy = options.pullPolicy ?? 'missing';
    this.maxBytes = options.maxBytes ?? null;
    this.clock = options.clock ?? systemClock;
    this.log = options.log ?? silentLogger;
    this.record = options.recordFile === undefined ? Promise.resolve(null) : PulledImages.load(options.recordFile, this.log);
  }

  /**
   * Resolves with the image's id and digest, held until released; `onProgress` hears of the
   * pull, if one is made. Throws ImageUnavailableError when the image is neither local nor
   * pullable (or, under `always`, not pullable), and a RuntimeError('unreachable') when Docker is down.
   */
  async ensure(ref: string, onProgress?: PullListener): Promise<HeldImage> {
    this.ensuring += 1;
    try {
      await this.eviction;
      const image = await this.fetchOnce(normalizeImageRef(ref), onProgress);
      return await this.hold(image);
    } finally {
      this.ensuring -= 1;
      this.scheduleEviction();
    }
  }

  /** Resolves once the eviction passes asked for so far are done and the record is saved (for tests and shutdown). */
  async settle(): Promise<void> {
    await this.eviction;
    await (await this.record)?.flush();
  }

  private async fetchOnce(key: string, onProgress?: PullListener): Promise<ImageInfo> {
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
    // A reference by digest names one image for good, so `always` has nothing newer to find.
    const pullAnyway = this.pullPolicy === 'always' && !ref.includes('@');
    if (local && !pullAnyway) return local;
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
      // Under `always` a failed pull fails the run even when an older copy is present: the run
      // asked for what the registry has now, and a stale image would run without anyone knowing.
      const what = local ? 'could not be pulled (--pull-policy always; the local copy is not used)' : 'not found locally and could not be pulled';
      throw new ImageUnavailableError(`Docker image '${ref}' ${what}: ${errorMessage(error)}`, { cause: error });
    }
    const pulled = await this.runtime.inspectImage(ref);
    if (!pulled) throw new ImageUnavailableError(`Docker image '${ref}' was pulled but cannot be found afterwards.`);
    // Only an image the pull brought in is the worker's: one already present under this name was not.
    const record = await this.record;
    if (record && (pulled.id !== local?.id || record.has(pulled.id))) {
      record.add(pulled.id, ref, pulled.sizeBytes ?? 0, this.clock.now());
    }
    return pulled;
  }

  private async hold(image: ImageInfo): Promise<HeldImage> {
    const record = await this.record;
    this.holds.set(image.id, (this.holds.get(image.id) ?? 0) + 1);
    record?.touch(image.id, this.clock.now());
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      const left = (this.holds.get(image.id) ?? 1) - 1;
      if (left > 0) this.holds.set(image.id, left);
      else this.holds.delete(image.id);
      record?.touch(image.id, this.clock.now());
      this.scheduleEviction();
    };
    return { ...image, release };
  }

  /** Queues an eviction pass when there is a cap; none runs while an ensure() is under way (it asks again when done). */
  private scheduleEviction(): void {
    if (this.maxBytes === null || this.ensuring > 0) return;
    this.eviction = this.eviction.then(() =>
      this.evict().catch((error: unknown) => {
        // Safe to only log: the images stay, and the next release or ensure tries again.
        this.log.warn(`Image cache eviction failed: ${errorMessage(error)}`);
      }),
    );
  }

  /** Removes least recently used, unheld images of the record until its total is under the cap. */
  private async evict(): Promise<void> {
    const record = await this.record;
    const cap = this.maxBytes;
    if (record === null || cap === null) return;
    const candidates = record.all().sort((a, b) => a.lastUsedMs - b.lastUsedMs);
    for (const image of candidates) {
      if (record.totalBytes() <= cap || this.ensuring > 0) return;
      if (this.holds.has(image.id)) continue;
      const removal = await this.runtime.removeImage(image.id);
      if (removal.outcome === 'in_use') {
        this.log.debug(`Not evicting image ${image.refs.join(', ')} (${image.id.slice(7, 19)}): ${removal.reason}`);
        continue;
      }
      record.remove(image.id);
      if (removal.outcome === 'removed') {
        this.log.info(
          `Evicted image ${image.refs.join(', ')} (${image.id.slice(7, 19)}, ${image.sizeBytes} bytes): ` +
            `the images this worker pulled exceeded --max-image-cache-size (${cap} bytes)`,
        );
      }
    }
  }
}
