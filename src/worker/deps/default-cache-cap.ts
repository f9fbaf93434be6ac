// The dependency cache's cap when `--max-work-dir-size` is not given: half of the file system
// that holds the work dir, read once at worker start. Half leaves room for the runs' own output
// and for the image cache on disks where those share the work dir's file system.
import { statfs } from 'node:fs/promises';
import { formatSize } from '../../common/sizes.js';

export const DEFAULT_CACHE_SHARE_OF_DISK = 0.5;

export function defaultCacheCap(diskTotalBytes: number): number {
  return Math.floor(diskTotalBytes * DEFAULT_CACHE_SHARE_OF_DISK);
}

/** The configured cap, or half of `dir`'s file system when none was given; with a line for the log. */
export async function resolveCacheCap(configured: number | null, dir: string): Promise<{ bytes: number; origin: string }> {
  if (configured !== null) return { bytes: configured, origin: '--max-work-dir-size' };
  const disk = await statfs(dir);
  const total = disk.blocks * disk.bsize;
  return { bytes: defaultCacheCap(total), origin: `half of the work dir's ${formatSize(total)} file system` };
}
