// The images this worker itself pulled, kept in one small JSON file in its work dir (written
// atomically), so that a restarted worker still knows which images are its own to evict. Images
// not in it (pulled by the operator, or present before the worker pulled) are never removed.
// It only keeps the list; choosing and removing images is the ImageCache's job.
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { writeFileAtomic } from '../../common/atomic-write.js';
import { errorMessage } from '../../common/error-message.js';
import type { Logger } from '../../common/log.js';

export const PulledImage = z.object({
  /** Image id (`sha256:…`). */
  id: z.string().min(1),
  /** The references it was pulled under, for the log. */
  refs: z.array(z.string()),
  sizeBytes: z.number().nonnegative(),
  /** When a run last asked for it or let go of it (epoch ms): the least recent goes first. */
  lastUsedMs: z.number(),
});
export type PulledImage = z.infer<typeof PulledImage>;

const PulledImagesFile = z.object({ version: z.literal(1), images: z.array(PulledImage) });

export class PulledImages {
  private readonly images = new Map<string, PulledImage>();
  private saving: Promise<void> = Promise.resolve();

  private constructor(
    private readonly file: string,
    private readonly log: Logger,
  ) {}

  /**
   * Reads the record; a missing file is an empty record. So is an unreadable one (with a warning):
   * forgetting images only means they are never evicted, the safe side.
   */
  static async load(file: string, log: Logger): Promise<PulledImages> {
    const record = new PulledImages(file, log);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') log.warn(`Could not read ${file}; no pulled image is evicted until it is pulled again: ${errorMessage(error)}`);
      return record;
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = null;
    }
    const checked = PulledImagesFile.safeParse(parsed);
    if (!checked.success) {
      log.warn(`Ignoring ${file}, which is not a record of pulled images; no pulled image is evicted until it is pulled again.`);
      return record;
    }
    for (const image of checked.data.images) record.images.set(image.id, image);
    return record;
  }

  has(id: string): boolean {
    return this.images.has(id);
  }

  all(): PulledImage[] {
    return [...this.images.values()];
  }

  totalBytes(): number {
    return this.all().reduce((sum, image) => sum + image.sizeBytes, 0);
  }

  /** Records a pull of `id` under `ref` (adding the image, or the name to it). */
  add(id: string, ref: string, sizeBytes: number, now: number): void {
    const known = this.images.get(id);
    const refs = known === undefined ? [ref] : [...new Set([...known.refs, ref])];
    this.images.set(id, { id, refs, sizeBytes, lastUsedMs: now });
    this.save();
  }

  /**
   * Marks a recorded image as used now; images not in the record are left alone. Kept in memory
   * and written with the next change to the set of images: every run holds and lets go of its
   * image, and two synced writes per run would buy only a fresher order after a restart.
   */
  touch(id: string, now: number): void {
    const known = this.images.get(id);
    if (known !== undefined) this.images.set(id, { ...known, lastUsedMs: now });
  }

  remove(id: string): void {
    if (this.images.delete(id)) this.save();
  }

  /** Resolves once every change made so far is on disk (or its failure logged). */
  flush(): Promise<void> {
    return this.saving;
  }

  /**
   * Writes one after another, each with the state of its own moment, so the last write holds the
   * latest state. A failed write is only logged: the worker keeps its record in memory, and at
   * worst a restart forgets the newest images, which are then never evicted (the safe side).
   */
  private save(): void {
    this.saving = this.saving.then(async () => {
      const body = JSON.stringify({ version: 1, images: this.all() }, null, 1);
      await writeFileAtomic(this.file, body).catch((error: unknown) => {
        this.log.warn(`Could not save the record of pulled images (${this.file}): ${errorMessage(error)}`);
      });
    });
  }
}
