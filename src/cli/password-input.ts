// Where `cl` commands read passwords from: a hidden terminal prompt, the first line of a file
// (--password-file), or lines of standard input (--password-stdin). Never from an argument,
// which other users of the machine could read in the process list.
import { readFile } from 'node:fs/promises';
import { UserInputError } from '../common/user-input-error.js';
import type { CliIo } from './io.js';
import { isInteractive, promptSecret } from './prompt.js';

export interface PasswordSourceOptions {
  passwordFile?: string;
  passwordStdin?: boolean;
}

/** Help lines for the two flags, shared by every command that reads a password. */
export const PASSWORD_FILE_HELP = 'read the password from the first line of this file';
export const PASSWORD_STDIN_HELP = 'read the password from standard input (one line)';

/**
 * `questions.length` passwords, in order: one a line from stdin or the file, else prompted for
 * (a new password is asked twice when `confirmLast` is set, to catch typos).
 */
export async function readPasswords(
  io: CliIo,
  options: PasswordSourceOptions,
  questions: readonly string[],
  confirmLast: boolean,
): Promise<string[]> {
  if (options.passwordFile !== undefined && options.passwordStdin) {
    throw new UserInputError('Give --password-file or --password-stdin, not both.');
  }
  if (options.passwordStdin) return takeLines(await readAll(io), questions.length, 'standard input');
  if (options.passwordFile !== undefined) return takeLines(await readPasswordFile(options.passwordFile), questions.length, options.passwordFile);
  if (!isInteractive(io)) {
    throw new UserInputError('No terminal to ask for the password: use --password-stdin or --password-file F.');
  }
  const answers: string[] = [];
  for (const question of questions) answers.push(await promptSecret(io, question));
  if (confirmLast) {
    const again = await promptSecret(io, 'Again, to confirm: ');
    if (again !== answers[answers.length - 1]) throw new UserInputError('The two passwords differ: nothing was changed.');
  }
  return answers;
}

async function readPasswordFile(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UserInputError(`Cannot read the password file ${path}: ${(error as Error).message}.`);
  }
}

function takeLines(text: string, count: number, where: string): string[] {
  const lines = text.split(/\r?\n/);
  const taken = lines.slice(0, count);
  if (taken.length < count || taken.some((line) => line === '')) {
    const what = count === 1 ? 'a password on its first line' : `${count} passwords, one a line (old, then new)`;
    throw new UserInputError(`Expected ${what} in ${where}.`);
  }
  return taken;
}

async function readAll(io: CliIo): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of io.stdin) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
