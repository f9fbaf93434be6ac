// The values of cl-worker-manager's flags, each parsed or refused with a one-line UsageError that
// names the flag, the value and what is expected. Pure.
import { parseSize } from '../common/sizes.js';
import { UsageError } from '../common/usage-error.js';
import { WORKER_TAG_PATTERN, WORKER_TAG_RULE } from '../protocol/index.js';
import { SLURM_NAME_PATTERN } from './slurm/slurm-job-spec.js';

export function parseBytes(flag: string, text: string): number {
  try {
    return parseSize(text);
  } catch (error) {
    throw new UsageError(`Invalid ${flag} '${text}': ${(error as Error).message}`);
  }
}

export function parseQueue(text: string): string {
  if (!WORKER_TAG_PATTERN.test(text)) throw new UsageError(`Invalid --queue '${text}': ${WORKER_TAG_RULE}.`);
  return text;
}

/**
 * The manager's name: labels its jobs and starts each worker id. Lowercase letters, digits and
 * hyphens, so that ids are valid Kubernetes pod names and Slurm job names as they are.
 */
export function parseManagerName(text: string): string {
  if (!/^[a-z0-9]([-a-z0-9]{0,38}[a-z0-9])?$/.test(text)) {
    throw new UsageError(`Invalid --name '${text}': use 1 to 40 lowercase letters, digits and hyphens, not starting or ending with a hyphen.`);
  }
  return text;
}

/** `--user a,b --user c` -> ['a', 'b', 'c']; none given -> null (every user the server shows). */
export function parseUsers(values: readonly string[]): string[] | null {
  const names = values.flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v !== '');
  return names.length === 0 ? null : names;
}

/** `--node-selector key=value`, repeatable. */
export function parseNodeSelector(values: readonly string[]): Record<string, string> {
  const selector: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf('=');
    if (at <= 0) throw new UsageError(`Invalid --node-selector '${value}': expected KEY=VALUE, e.g. gpu=a100.`);
    selector[value.slice(0, at)] = value.slice(at + 1);
  }
  return selector;
}

/**
 * `--time-limit` in Slurm's forms: MINUTES, MINUTES:SECONDS, HOURS:MINUTES:SECONDS, DAYS-HOURS,
 * DAYS-HOURS:MINUTES or DAYS-HOURS:MINUTES:SECONDS. Returns whole minutes, seconds rounded up.
 */
export function parseTimeLimit(text: string): number {
  const match = /^(?:(\d+)-(\d+)(?::(\d+)(?::(\d+))?)?|(\d+)(?::(\d+)(?::(\d+))?)?)$/.exec(text.trim());
  const n = (value: string | undefined): number => (value === undefined ? 0 : Number(value));
  let seconds = 0;
  if (match?.[1] !== undefined) {
    seconds = ((n(match[1]) * 24 + n(match[2])) * 60 + n(match[3])) * 60 + n(match[4]);
  } else if (match?.[5] !== undefined) {
    // As Slurm reads them: one part is minutes, two are minutes:seconds, three hours:minutes:seconds.
    seconds = match[7] !== undefined ? (n(match[5]) * 60 + n(match[6])) * 60 + n(match[7]) : n(match[5]) * 60 + n(match[6]);
  }
  if (match === null || seconds <= 0) {
    throw new UsageError(`Invalid --time-limit '${text}': expected minutes or D-HH:MM:SS, e.g. 90 or 1-00:00:00, more than 0.`);
  }
  return Math.ceil(seconds / 60);
}

/** `--job-name-prefix`: put before each worker id in Slurm job names; may be empty. */
export function parseJobNamePrefix(text: string): string {
  if (text.length > 40 || !SLURM_NAME_PATTERN.test(text)) {
    throw new UsageError(`Invalid --job-name-prefix '${text}': use at most 40 letters, digits, '.', '_' and '-'.`);
  }
  return text;
}
