// Sizes and durations as users write them (`10k`, `1.5g`, `90s`, `5m`) and as we print them.
// Powers of 1024 for sizes, as CodaLab does. Parsers throw a UserInputError naming the input.
import { UserInputError } from './user-input-error.js';

const SIZE_UNITS: Record<string, number> = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 };
const DURATION_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86400, y: 365 * 86400 };

/** Parses `123`, `10k`, `1.5g`, `2t` into bytes (rounded down to whole bytes). */
export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?|\.\d+)([kmgt]?)$/i.exec(text.trim());
  const multiplier = match ? SIZE_UNITS[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || multiplier === undefined) {
    throw new UserInputError(`Invalid size '${text}': expected a number with an optional k, m, g or t suffix, e.g. 512m or 2g.`);
  }
  return Math.floor(Number(match[1]) * multiplier);
}

/** Parses `90`, `90s`, `5m`, `1.5h`, `2d`, `1y` into seconds. */
export function parseDuration(text: string): number {
  const match = /^(\d+(?:\.\d+)?|\.\d+)([smhdy]?)$/i.exec(text.trim());
  const multiplier = match ? DURATION_UNITS[(match[2] ?? '').toLowerCase()] : undefined;
  if (!match || multiplier === undefined) {
    throw new UserInputError(`Invalid duration '${text}': expected a number with an optional s, m, h, d or y suffix, e.g. 90s or 2h.`);
  }
  return Number(match[1]) * multiplier;
}

/** `2g`, `1.5g`, `512`, `3.2k`: whole numbers or values of 100 and more print without a decimal. */
export function formatSize(bytes: number): string {
  const units = ['', 'k', 'm', 'g', 't'];
  let value = bytes;
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const whole = Number.isInteger(value) || Math.abs(value) >= 100;
  return `${whole ? Math.round(value) : value.toFixed(1)}${units[unit]}`;
}

/** `12.3s`, `5m3s`, `2h46m`, `3d4h`, `1y20d`. */
export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds * 10) / 10}s`;
  const s = Math.floor(seconds);
  if (s < 3600) return `${Math.floor(s / 60)}m${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
  if (s < 365 * 86400) return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
  return `${Math.floor(s / (365 * 86400))}y${Math.floor((s % (365 * 86400)) / 86400)}d`;
}

/** `45s`, `3m`, `2h`, `4d`: an age in whole units of the largest that fits, so it reads at a glance. */
export function formatAge(seconds: number): string {
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds >= size) return `${Math.floor(seconds / size)}${unit}`;
  }
  return `${Math.max(0, Math.floor(seconds))}s`;
}

/** `10m`, `2h`, `90s`: a time limit as users write it (whole units when exact). */
export function formatTimeLimit(seconds: number): string {
  for (const [unit, size] of [['d', 86400], ['h', 3600], ['m', 60]] as const) {
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  }
  return `${seconds}s`;
}

/** `1h2m used / 10h (10%)`; `used, no limit` when there is none. */
export function formatUsage(
  used: number,
  quota: number | null,
  format: (n: number) => string,
  formatQuota: (n: number) => string = format,
): string {
  if (quota === null) return `${format(used)} used, no limit`;
  const percent = quota > 0 ? Math.floor((used / quota) * 100) : 100;
  return `${format(used)} used / ${formatQuota(quota)} (${percent}%)`;
}
