// Sending a run's end to the server: its calls retried through outages and sorted into
// accepted, stale or failed; the byte count shown while results upload; and how long a killed
// run's upload may take. It changes no run state and decides nothing about what is uploaded.
import { pipeline, Transform, type Readable } from 'node:stream';
import { ApiError } from '../../protocol/index.js';
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/log.js';
import { withRetry } from '../retry.js';
import { uploadProgressText } from './progress-text.js';

/**
 * A killed run's results upload is cut off this long after the kill request, and only stdout and
 * stderr are uploaded instead, so a kill ends the run within seconds even while a large upload runs.
 */
const KILL_UPLOAD_DEADLINE_MS = 12_000;
/** Least time the upload of a killed run gets, however late the container stopped. */
const MIN_KILLED_UPLOAD_MS = 1_000;

export type SendOutcome = 'ok' | 'stale' | Error;

/** Milliseconds from `now` until a killed run's upload is cut off, the kill being requested at `since`. */
export function uploadCutDelayMs(since: number, now: number): number {
  return Math.max(MIN_KILLED_UPLOAD_MS, since + KILL_UPLOAD_DEADLINE_MS - now);
}

/**
 * One server call about a run, retried through outages: 'ok', 'stale' (the assignment is no longer
 * ours), or the error. `log` is scoped to the run; `what` reads "upload the results of".
 */
export async function sendRunCall(
  log: Logger,
  what: string,
  call: () => Promise<{ accepted: boolean; reason?: string | undefined }>,
  signal: AbortSignal,
): Promise<SendOutcome> {
  try {
    const answer = await withRetry(call, { log, what: `${what} the run`, signal });
    if (answer.accepted) return 'ok';
    log.warn(`The server refused to ${what} the run (${answer.reason ?? 'stale assignment'}); dropping it.`);
    return 'stale';
  } catch (error) {
    if (signal.aborted) return 'stale';
    if (error instanceof ApiError && ['conflict', 'not_found', 'forbidden'].includes(error.code)) {
      log.warn(`The server refused to ${what} the run (${error.message}); dropping it.`);
      return 'stale';
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** Passes the upload through, showing its progress ("Uploading results: 300m of 1g") twice a second. */
export function countUpload(tar: Readable, total: number | null, clock: Clock, onProgress: (text: string) => void): Readable {
  let sent = 0;
  let shownAt = 0;
  const counter = new Transform({
    transform: (chunk: Buffer, _encoding, callback) => {
      sent += chunk.length;
      const now = clock.now();
      if (now - shownAt >= 500) {
        shownAt = now;
        onProgress(uploadProgressText(sent, total));
      }
      callback(null, chunk);
    },
  });
  // pipeline, not pipe: when the upload stops early (the server went away, or refused it) and
  // destroys the counter, the tar is destroyed too, closing the files it holds open.
  return pipeline(tar, counter, () => {});
}
