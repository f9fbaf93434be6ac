// The error for a program invoked wrongly: an unknown flag or a flag with a bad value. A kind of
// UserInputError (one line, no stack trace) that entry points tell apart to exit with status 2,
// the Unix convention for usage errors, instead of 1 for everything else.
import { UserInputError } from './user-input-error.js';

export class UsageError extends UserInputError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Commander's own message ("error: unknown option '--x'\n(Did you mean ...)") as one line that points at --help. */
export function commanderUsageMessage(message: string, program: string): string {
  const first = (message.replace(/^error: /, '').split('\n')[0] ?? message).replace(/\.$/, '');
  return `${first} (see ${program} --help).`;
}
