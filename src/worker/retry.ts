// Retrying calls to the server: which failures are worth another try, and the backoff between
// tries. The one place that tells retryable from permanent errors; it knows nothing of runs.
import { ApiError } from '../protocol/index.js';
import { errorMessage } from '../common/error-message.js';
import { sleep } from '../common/clock.js';
import type { Logger } from '../common/log.js';

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN']);

/** True when trying again later can help: the server is down, busy, or the connection broke. */
export function isRetryable(error: unknown): boolean {
  if (error instanceof ApiError) return error.retryable;
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (NETWORK_CODES.has(code) || code.startsWith('UND_ERR'))) return true;
    if (e.message === 'fetch failed' || e.name === 'TimeoutError') return true;
  }
  return false;
}

export interface RetryOptions {
  /** Stops retrying (the last error is thrown) once aborted. */
  signal?: AbortSignal;
  log: Logger;
  /** What is being done, for the log: "upload the results of 0x…". */
  what: string;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Give up after this many tries (default: never, while the error stays retryable). */
  maxAttempts?: number;
}

/** Calls `fn` until it succeeds, retrying retryable errors with exponential backoff. */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions): Promise<T> {
  let delay = options.initialDelayMs ?? 500;
  const maxDelay = options.maxDelayMs ?? 30_000;
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await fn();
    } catch (error) {
      const giveUp =
        !isRetryable(error) || options.signal?.aborted === true || attempt >= (options.maxAttempts ?? Infinity);
      if (giveUp) throw error;
      // A server that said when to come back (429 with Retry-After) is not asked again sooner.
      const wait = Math.max(delay, error instanceof ApiError && error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 0);
      options.log.warn(`Could not ${options.what} (${errorMessage(error)}); retrying in ${Math.round(wait / 100) / 10}s`);
      await sleep(wait, options.signal);
      delay = Math.min(delay * 2, maxDelay);
    }
  }
}
