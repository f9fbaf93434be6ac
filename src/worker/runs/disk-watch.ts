// When to measure a running bundle's disk use next. Docker cannot cap disk on our filesystems, so
// the worker measures; it measures often enough that a fast writer is caught well before its
// limit (or the work dir) fills, and seldom enough that measuring a big tree costs little. Pure.

export interface DiskSample {
  /** Bytes written (run dir plus the container's writable layer) and when (epoch ms). */
  bytes: number;
  at: number;
  /** How long the measurement took, in ms. */
  scanMs: number;
}

export const MIN_DISK_CHECK_MS = 250;

/**
 * Milliseconds until the next measurement: ten times the last scan (so measuring uses at most
 * about 10% of a core), at least every `maxMs`, and sooner when the write rate would reach
 * `budgetBytes` (the disk limit, or the free space left) before then: at half the time left.
 */
export function nextDiskCheckMs(previous: DiskSample | null, latest: DiskSample, budgetBytes: number, maxMs: number): number {
  const base = Math.min(maxMs, Math.max(1000, latest.scanMs * 10));
  if (!previous || budgetBytes <= 0 || latest.at <= previous.at) return base;
  const rate = (latest.bytes - previous.bytes) / (latest.at - previous.at);
  if (rate <= 0) return base;
  const untilFull = Math.max(0, budgetBytes - latest.bytes) / rate;
  return Math.max(MIN_DISK_CHECK_MS, Math.min(base, untilFull / 2));
}
