// Bundle names: validation and the default names CodaLab users know (`run-<word>`, upload basenames).
import { NAME_MAX_CHARS, textViolation } from '../protocol/index.js';
import { UserInputError } from './user-input-error.js';

const NAME = /^[a-zA-Z_][a-zA-Z0-9_.-]*$/;
const MAX_DEFAULT_NAME = 32;

export function validateBundleName(name: string): string {
  const tooLong = textViolation('Bundle name', name, NAME_MAX_CHARS);
  if (tooLong) throw new UserInputError(tooLong);
  if (!NAME.test(name)) {
    throw new UserInputError(
      `Invalid bundle name '${name}': start with a letter or '_', then letters, digits, '_', '.' or '-'.`,
    );
  }
  return name;
}

/** Turns any text into a valid name: bad characters become '-', runs collapse, long names are shortened. */
export function toDefaultName(text: string): string {
  let name = text.replace(/[^a-zA-Z0-9_.-]/g, '-').replace(/-+/g, '-').replace(/^-|-$/g, '');
  if (name === '') name = 'bundle';
  if (!/^[a-zA-Z_]/.test(name)) name = `_${name}`;
  if (name.length > MAX_DEFAULT_NAME) {
    const half = (MAX_DEFAULT_NAME - 2) / 2;
    name = `${name.slice(0, half)}..${name.slice(name.length - half)}`;
  }
  return name;
}

export function defaultRunName(command: string): string {
  const firstWord = command.trim().split(/\s+/)[0] ?? '';
  return toDefaultName(`run-${firstWord}`);
}

const ARCHIVE_SUFFIXES = ['.tar.gz', '.tgz', '.tar.bz2', '.tbz2', '.tar', '.zip', '.gz', '.bz2'];

export function stripArchiveSuffix(fileName: string): string {
  const lower = fileName.toLowerCase();
  const suffix = ARCHIVE_SUFFIXES.find((s) => lower.endsWith(s));
  return suffix ? fileName.slice(0, fileName.length - suffix.length) : fileName;
}
