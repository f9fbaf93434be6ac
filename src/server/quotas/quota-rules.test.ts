import { describe, expect, it } from 'vitest';
import { formatDuration, formatSize, formatTimeLimit, formatUsage } from '../../common/sizes.js';
import { creationProblem, effectiveQuotas, runTimeCharge, timeQuotaKillReason } from './quota-rules.js';

const GB = 1024 ** 3;
const defaults = { diskBytes: GB, timeSeconds: 3600, parallelRuns: 3 };
const quotas = { disk: GB, time: 3600, parallel_runs: 3 };

describe('effectiveQuotas', () => {
  it("uses the user's own quotas where set and the server's defaults elsewhere", () => {
    expect(effectiveQuotas({ is_root: false, quotas: { disk: 5, time: null, parallel_runs: null } }, defaults)).toEqual({
      disk: 5,
      time: 3600,
      parallel_runs: 3,
    });
  });

  it('gives root no limits', () => {
    expect(effectiveQuotas({ is_root: true, quotas: { disk: 1, time: 1, parallel_runs: 1 } }, defaults)).toBeNull();
  });
});

describe('creationProblem', () => {
  it('refuses any bundle at the disk quota, saying how much is used and what to do', () => {
    expect(creationProblem('dataset', { disk_used: 1.2 * GB, time_used: 0 }, quotas)).toBe(
      'Disk quota exceeded: 1.2g used of 1g. Delete bundles (cl rm) or ask root for more (cl uedit).',
    );
  });

  it('refuses only runs at the time quota', () => {
    const usage = { disk_used: 0, time_used: 3600 };
    expect(creationProblem('run', usage, quotas)).toMatch(/^Time quota exceeded: 1h0m used of 1h on shared workers\. /);
    expect(creationProblem('make', usage, quotas)).toBeNull();
  });

  it('allows everything below the quotas, and everything for root', () => {
    expect(creationProblem('run', { disk_used: GB - 1, time_used: 3599 }, quotas)).toBeNull();
    expect(creationProblem('run', { disk_used: 10 * GB, time_used: 1e9 }, null)).toBeNull();
  });
});

describe('runTimeCharge', () => {
  it('charges how far the reported time moved since the last report', () => {
    expect(runTimeCharge(10, 14.5)).toBe(4.5);
    expect(runTimeCharge(undefined, 3)).toBe(3);
  });

  it('charges nothing for a repeated, missing or backward report', () => {
    expect(runTimeCharge(10, 10)).toBe(0);
    expect(runTimeCharge(10, undefined)).toBe(0);
    expect(runTimeCharge(10, 2)).toBe(0);
  });
});

describe('formatUsage', () => {
  it('reads as used / quota (percent)', () => {
    expect(formatUsage(3720, 36000, formatDuration, formatTimeLimit)).toBe('1h2m used / 10h (10%)');
    expect(formatUsage(GB / 2, GB, formatSize)).toBe('512m used / 1g (50%)');
    expect(formatUsage(5, null, formatSize)).toBe('5 used, no limit');
  });

  it('names the kill reason with its numbers', () => {
    expect(timeQuotaKillReason(65, 60)).toBe('time quota exceeded (1m5s used of 1m on shared workers)');
  });
});
