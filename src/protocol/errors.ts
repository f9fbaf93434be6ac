// Error codes shared by server, worker and client, and the JSON body that carries them.
// Each code maps to one HTTP status; `retryable` tells clients whether trying again can help.
import { z } from 'zod';

export const ErrorCode = z.enum([
  'bad_request',
  'unauthorized',
  'forbidden',
  'not_found',
  'ambiguous',
  'conflict',
  'too_large',
  'too_many_requests',
  'unavailable',
  'internal',
]);
export type ErrorCode = z.infer<typeof ErrorCode>;

export const HTTP_STATUS_OF: Record<ErrorCode, number> = {
  bad_request: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  ambiguous: 409,
  conflict: 409,
  too_large: 413,
  too_many_requests: 429,
  unavailable: 503,
  internal: 500,
};

export const RETRYABLE: ReadonlySet<ErrorCode> = new Set(['too_many_requests', 'unavailable', 'internal']);

/** The header that says how many seconds to wait before trying again (with `too_many_requests`). */
export const RETRY_AFTER_HEADER = 'retry-after';

export const ErrorBody = z.object({
  error: z.object({ code: ErrorCode, message: z.string() }),
});
export type ErrorBody = z.infer<typeof ErrorBody>;

/** An error that crosses a process boundary: a stable code plus a message for people. */
export class ApiError extends Error {
  /** Seconds to wait before trying again, when the answer said (the Retry-After header). */
  readonly retryAfterSeconds: number | undefined;

  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown; retryAfterSeconds?: number },
  ) {
    super(message, options);
    this.name = 'ApiError';
    this.retryAfterSeconds = options?.retryAfterSeconds;
  }

  get status(): number {
    return HTTP_STATUS_OF[this.code];
  }

  get retryable(): boolean {
    return RETRYABLE.has(this.code);
  }
}
