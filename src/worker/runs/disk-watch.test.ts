import { describe, expect, it } from 'vitest';
import { MIN_DISK_CHECK_MS, nextDiskCheckMs } from './disk-watch.js';

const M = 1024 ** 2;

describe('nextDiskCheckMs', () => {
  it('waits ten times the scan, between 1 s and the maximum', () => {
    expect(nextDiskCheckMs(null, { bytes: 0, at: 0, scanMs: 5 }, 0, 5000)).toBe(1000);
    expect(nextDiskCheckMs(null, { bytes: 0, at: 0, scanMs: 300 }, 0, 5000)).toBe(3000);
    expect(nextDiskCheckMs(null, { bytes: 0, at: 0, scanMs: 2000 }, 0, 5000)).toBe(5000);
  });

  it('checks sooner when a fast writer nears its limit', () => {
    // 100 MB/s, 200 MB left: full in 2 s, so look again in 1 s at the latest; 20 MB left: at once.
    const prev = { bytes: 0, at: 0, scanMs: 1 };
    expect(nextDiskCheckMs(prev, { bytes: 100 * M, at: 1000, scanMs: 1 }, 300 * M, 5000)).toBe(1000);
    expect(nextDiskCheckMs(prev, { bytes: 100 * M, at: 1000, scanMs: 1 }, 120 * M, 5000)).toBe(MIN_DISK_CHECK_MS);
    expect(nextDiskCheckMs(prev, { bytes: 100 * M, at: 1000, scanMs: 1 }, 10_000 * M, 5000)).toBe(1000);
  });
});
