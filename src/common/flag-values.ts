// Flag values that cl-worker and cl-worker-manager both take, each parsed or refused with a
// one-line UsageError that names the flag, the value and what is expected. Pure.
import { parseDuration } from './sizes.js';
import { UsageError } from './usage-error.js';

/** `--server URL`: http(s) only, without a trailing slash or /rest. */
export function normalizeServerUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`Invalid --server '${text}': expected a URL like http://127.0.0.1:2900.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError(`Invalid --server '${text}': only http:// and https:// are supported.`);
  }
  return url.toString().replace(/\/+$/, '').replace(/\/rest$/, '');
}

export function parseCount(flag: string, text: string, min: number): number {
  if (!/^\d+$/.test(text.trim()) || Number(text) < min) {
    throw new UsageError(`Invalid ${flag} '${text}': expected a whole number of at least ${min}.`);
  }
  return Number(text);
}

export function parseSeconds(flag: string, text: string): number {
  try {
    return parseDuration(text);
  } catch {
    throw new UsageError(`Invalid ${flag} '${text}': expected seconds, e.g. 5 or 1.5 or 2m.`);
  }
}

export function parsePositiveSeconds(flag: string, text: string): number {
  const seconds = parseSeconds(flag, text);
  if (seconds <= 0) throw new UsageError(`Invalid ${flag} '${text}': must be more than 0.`);
  return seconds;
}
