// The run_status texts of long steps of a run, as the user reads them in `cl info`: bytes of
// dependency data received, percent of an image pulled, bytes of results uploaded. Pure
// formatting; the supervisor decides when to show them.
import { formatSize } from '../../common/sizes.js';

export interface ByteProgress {
  /** Bytes received so far. */
  done: number;
  /** Bytes expected, when known. */
  total: number | null;
}

/** "Downloading dependency data: 1.2g of 4g" over all of a run's dependencies being downloaded. */
export function dependencyProgressText(parts: readonly ByteProgress[]): string {
  return `Downloading dependency data: ${bytesOf(parts)}`;
}

/** "Pulling image NAME: 40%", or without a percent while no layer's size is known yet. */
export function pullProgressText(ref: string, percent: number | null): string {
  return percent === null ? `Pulling image ${ref}` : `Pulling image ${ref}: ${Math.floor(percent)}%`;
}

/** "Uploading results: 300m of 1g". */
export function uploadProgressText(sent: number, total: number | null): string {
  return `Uploading results: ${bytesOf([{ done: sent, total }])}`;
}

/**
 * "1.2g of 4g"; just "1.2g" when a total is unknown, or when more came than expected (a tar of a
 * directory is a little larger than its data_size, and "4.1g of 4g" would read as a bug).
 */
function bytesOf(parts: readonly ByteProgress[]): string {
  const done = parts.reduce((sum, p) => sum + p.done, 0);
  const totals = parts.map((p) => p.total);
  const total = totals.every((t): t is number => t !== null) ? totals.reduce((sum, t) => sum + t, 0) : null;
  return total !== null && total > 0 && done <= total ? `${formatSize(done)} of ${formatSize(total)}` : formatSize(done);
}
