// The error for a user's mistake: its message is printed as one line, with no stack trace.
export class UserInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserInputError';
  }
}
