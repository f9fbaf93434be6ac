// The JSON error body of a failed request: an ApiError's code and message, a validation failure's
// first issue, or a generic internal error (whose detail goes to the server log, not the client).
import { ZodError } from 'zod';
import { UserInputError } from '../../common/user-input-error.js';
import { ApiError, HTTP_STATUS_OF, type ErrorBody } from '../../protocol/index.js';

export function toErrorBody(error: unknown): ErrorBody {
  if (error instanceof ApiError) return { error: { code: error.code, message: error.message } };
  if (error instanceof ZodError) {
    const issue = error.issues[0];
    // Our own checks (limits.ts) write whole sentences that name the field already.
    if (issue?.code === 'custom') return { error: { code: 'bad_request', message: issue.message } };
    const where = issue && issue.path.length > 0 ? `${issue.path.join('.')}: ` : '';
    return { error: { code: 'bad_request', message: `Invalid request: ${where}${issue?.message ?? 'malformed'}` } };
  }
  if (error instanceof UserInputError) return { error: { code: 'bad_request', message: error.message } };
  const status = (error as { statusCode?: number }).statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    return { error: { code: 'bad_request', message: (error as Error).message } };
  }
  return { error: { code: 'internal', message: 'Internal server error; see the server log.' } };
}

/** The HTTP status of a failed request, given its body (toErrorBody's, or another the caller chose). */
export function errorStatus(error: unknown, body: ErrorBody): number {
  return error instanceof ApiError ? error.status : HTTP_STATUS_OF[body.error.code];
}
