// Quota decisions as pure functions: the effective quotas of a user, whether a new bundle or run
// is refused (and the one-line message why), how many run-seconds a worker report charges, and
// how usage reads ("1h2m used / 10h (10%)"). No I/O, no clock: QuotaService does the reading.
import { formatDuration, formatSize, formatTimeLimit } from '../../common/sizes.js';
import type { BundleType } from '../../protocol/index.js';
import type { UserQuotaSettings } from '../store/store.js';

/** The quotas users get unless root gave them their own (`--default-user-*-quota`). */
export interface QuotaDefaults {
  diskBytes: number;
  timeSeconds: number;
  parallelRuns: number;
}

export interface Quotas {
  disk: number;
  time: number;
  parallel_runs: number;
}

export interface QuotaSubject {
  is_root: boolean;
  quotas: UserQuotaSettings;
}

/** The quotas that apply to `user`; null for root, who has no limits. */
export function effectiveQuotas(user: QuotaSubject, defaults: QuotaDefaults): Quotas | null {
  if (user.is_root) return null;
  return {
    disk: user.quotas.disk ?? defaults.diskBytes,
    time: user.quotas.time ?? defaults.timeSeconds,
    parallel_runs: user.quotas.parallel_runs ?? defaults.parallelRuns,
  };
}

export function diskQuotaProblem(used: number, quota: number): string | null {
  if (used < quota) return null;
  return `Disk quota exceeded: ${formatSize(used)} used of ${formatSize(quota)}. Delete bundles (cl rm) or ask root for more (cl uedit).`;
}

export function timeQuotaProblem(used: number, quota: number): string | null {
  if (used < quota) return null;
  return `Time quota exceeded: ${formatDuration(used)} used of ${formatTimeLimit(quota)} on shared workers. Run on a worker of your own or ask root for more (cl uedit).`;
}

/** Why a new bundle of this type is refused, or null. Every bundle takes disk; only runs take time. */
export function creationProblem(type: BundleType, usage: { disk_used: number; time_used: number }, quotas: Quotas | null): string | null {
  if (quotas === null) return null;
  const disk = diskQuotaProblem(usage.disk_used, quotas.disk);
  if (disk !== null) return disk;
  return type === 'run' ? timeQuotaProblem(usage.time_used, quotas.time) : null;
}

/**
 * Run-seconds a report charges: how far the run's `time` moved since the last report the server
 * applied. A report that goes backwards (a restarted clock) or repeats charges nothing.
 */
export function runTimeCharge(previousTime: unknown, reportedTime: number | undefined): number {
  if (reportedTime === undefined || !Number.isFinite(reportedTime)) return 0;
  const previous = typeof previousTime === 'number' && Number.isFinite(previousTime) ? previousTime : 0;
  return Math.max(0, reportedTime - previous);
}

/** The reason a run of an owner at their parallel-run quota waits in `staged`. */
export function parallelRunQuotaReason(runs: number): string {
  return `owner has ${runs} run${runs === 1 ? '' : 's'} on shared workers, the parallel-run quota`;
}

/** The failure reason of a run killed for its owner's time quota (after "Kill requested: "). */
export function timeQuotaKillReason(used: number, quota: number): string {
  return `time quota exceeded (${formatDuration(used)} used of ${formatTimeLimit(quota)} on shared workers)`;
}
