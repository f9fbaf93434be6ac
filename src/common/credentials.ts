// Credentials of a process that logs in as a user (cl-worker, cl-worker-manager): a password file
// (username on line 1, password on line 2, readable by its owner alone) or CODALAB_USERNAME and
// CODALAB_PASSWORD. Problems are one-line UserInputErrors.
import { readFileSync, statSync } from 'node:fs';
import { UserInputError } from './user-input-error.js';

export interface Credentials {
  username: string;
  password: string;
}

export function credentialsFromEnv(env: Readonly<Record<string, string | undefined>>): Credentials {
  const username = env.CODALAB_USERNAME;
  const password = env.CODALAB_PASSWORD;
  if (!username || password === undefined) {
    throw new UserInputError(
      'No credentials: pass --password-file FILE (username on line 1, password on line 2, mode 600) or set CODALAB_USERNAME and CODALAB_PASSWORD.',
    );
  }
  return { username, password };
}

/** A message when the file's mode lets group or others in, else null. */
export function checkPasswordFileMode(mode: number, file: string): string | null {
  if ((mode & 0o077) === 0) return null;
  const octal = (mode & 0o777).toString(8).padStart(3, '0');
  return `Password file ${file} is readable by other users (mode ${octal}); run: chmod 600 ${file}`;
}

export function parsePasswordFileText(text: string, file: string): Credentials {
  const lines = text.split(/\r?\n/);
  const username = (lines[0] ?? '').trim();
  const password = lines[1]?.replace(/\r$/, '');
  if (!username || password === undefined || password === '') {
    throw new UserInputError(`Password file ${file} must hold the username on line 1 and the password on line 2.`);
  }
  return { username, password };
}

export function readPasswordFile(file: string): Credentials {
  let mode: number;
  let text: string;
  try {
    mode = statSync(file).mode;
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new UserInputError(`Cannot read password file ${file}: ${(error as Error).message}`);
  }
  const problem = checkPasswordFileMode(mode, file);
  if (problem) throw new UserInputError(problem);
  return parsePasswordFileText(text, file);
}
