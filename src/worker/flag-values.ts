// The values of cl-worker's flags, each parsed or refused with a one-line UsageError that names
// the flag, the value and what is expected. Pure: config.ts calls these while it builds the config.
import { GROUP_NAME_PATTERN, GROUP_NAME_RULE, WORKER_ID_PATTERN, WORKER_TAG_PATTERN, WORKER_TAG_RULE } from '../protocol/index.js';
import { parseSize } from '../common/sizes.js';
import { UsageError } from '../common/usage-error.js';
export { normalizeServerUrl, parseCount, parsePositiveSeconds, parseSeconds } from '../common/flag-values.js';
import { RUN_NETWORK } from './docker/container-runtime.js';
import { PULL_POLICIES, type PullPolicy } from './images/pull-policy.js';

export function parseWorkerId(text: string): string {
  if (!WORKER_ID_PATTERN.test(text)) {
    throw new UsageError(`Invalid --id '${text}': use 1 to 100 letters, digits or _ . : @ -.`);
  }
  return text;
}

export function parseGroupName(text: string): string {
  if (!GROUP_NAME_PATTERN.test(text)) throw new UsageError(`Invalid --group '${text}': ${GROUP_NAME_RULE}.`);
  return text;
}

export function parseTag(text: string): string {
  if (!WORKER_TAG_PATTERN.test(text)) {
    throw new UsageError(`Invalid --tag '${text}': ${WORKER_TAG_RULE}.`);
  }
  return text;
}

/**
 * As CodaLab's docs advise ("generally the number of cores your machine has"): one run per CPU
 * the worker may hand out, since each run asks for at least one.
 */
export function defaultSlots(cpuset: readonly number[] | null, cpuCount: number): number {
  return Math.max(1, cpuset?.length ?? cpuCount);
}

export function parseNetworkName(text: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/.test(text) || text === 'none' || text === 'host') {
    throw new UsageError(`Invalid --run-network '${text}': name a bridge network, e.g. ${RUN_NETWORK} or bridge.`);
  }
  return text;
}

export function parsePullPolicy(text: string): PullPolicy {
  const policy = PULL_POLICIES.find((p) => p === text.trim().toLowerCase());
  if (policy === undefined) throw new UsageError(`Invalid --pull-policy '${text}': expected missing or always.`);
  return policy;
}

export function parseFlagSize(flag: string, text: string): number {
  try {
    return parseSize(text);
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}`);
  }
}

/** `ALL` (null: every CPU) or a list like `0,1,4-7`, each index below `cpuCount`, no repeats. */
export function parseCpuset(text: string, cpuCount: number): number[] | null {
  if (text.trim().toUpperCase() === 'ALL') return null;
  const cpus: number[] = [];
  for (const part of text.split(',')) {
    const match = /^\s*(\d+)(?:-(\d+))?\s*$/.exec(part);
    if (!match) throw new UsageError(`Invalid --cpuset '${text}': expected ALL or a list like 0,1,4-7.`);
    const first = Number(match[1]);
    const last = match[2] === undefined ? first : Number(match[2]);
    for (let cpu = first; cpu <= last; cpu += 1) {
      if (cpu >= cpuCount) {
        throw new UsageError(`Invalid --cpuset '${text}': CPU ${cpu} does not exist (this machine has ${cpuCount}).`);
      }
      if (cpus.includes(cpu)) throw new UsageError(`Invalid --cpuset '${text}': CPU ${cpu} is listed twice.`);
      cpus.push(cpu);
    }
  }
  return cpus;
}

export function parseGigabytes(flag: string, text: string): number {
  const value = Number(text.trim());
  if (text.trim() === '' || !Number.isFinite(value) || value <= 0) {
    throw new UsageError(`Invalid ${flag} '${text}': expected a number of GiB above 0, e.g. 1 or 0.5.`);
  }
  return Math.floor(value * 1024 ** 3);
}

/** `ALL` (null: every GPU nvidia-smi lists), `NONE` or empty (no GPUs), or indices/UUIDs. */
export function parseGpuset(text: string): string[] | null {
  const trimmed = text.trim();
  if (/^ALL$/i.test(trimmed)) return null;
  if (trimmed === '' || /^NONE$/i.test(trimmed)) return [];
  const gpus = trimmed.split(',').map((g) => g.trim());
  if (gpus.some((g) => !/^[A-Za-z0-9-]+$/.test(g)) || new Set(gpus).size !== gpus.length) {
    throw new UsageError(`Invalid --gpuset '${text}': expected NONE or distinct GPU indices or UUIDs, comma-separated.`);
  }
  return gpus;
}
