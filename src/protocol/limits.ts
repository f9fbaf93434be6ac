// Size limits on what users store: names, texts, tags, metadata, commands, dependency paths, and
// the largest JSON request body. Each check returns a one-line refusal that names the field, the
// limit and the actual length (or null); request schemas and server services apply them, so the
// server is the authority, and the client may check early with the same functions. No I/O.
import type { Dependency, Metadata } from './bundles.js';

/** Bundle and worksheet names, as in CodaLab. Derived default names are at most 32 characters. */
export const NAME_MAX_CHARS = 255;
/** A description or any other free-text metadata value: several paragraphs. */
export const TEXT_MAX_CHARS = 8192;
/** Tags, exclude patterns and any other list value: items per list, and characters per item. */
export const LIST_MAX_ITEMS = 100;
export const LIST_ITEM_MAX_CHARS = 255;
export const METADATA_KEY_MAX_CHARS = 100;
/** Keys of one bundle's metadata, including the ~35 the system sets on a run. */
export const METADATA_MAX_KEYS = 200;
export const WORKSHEET_TITLE_MAX_CHARS = 1024;
/** One text item of a worksheet: a long markdown section. */
export const WORKSHEET_TEXT_MAX_CHARS = 65_536;
/**
 * A run's command, in UTF-8 bytes. The worker hands it to `bash -c` as one argument, which Linux
 * caps at 128 KiB; half of that leaves room, and longer scripts belong in an uploaded file.
 */
export const COMMAND_MAX_BYTES = 65_536;
/** A dependency key (`child_path`) and the sub-path inside its parent (`parent_path`). */
export const CHILD_PATH_MAX_CHARS = 255;
export const PARENT_PATH_MAX_CHARS = 4096;
/**
 * Largest JSON request body. The biggest legitimate ones: a run at every limit above with a
 * thousand dependencies (about 0.5 MB), and the check-in of a worker caching 20,000 dependencies
 * with 64 runs (about 1.2 MB). Contents uploads and the netcat/netcurl routes stream or have
 * their own limits.
 */
export const JSON_BODY_MAX_BYTES = 2 * 1024 * 1024;

/** Length in characters (code points), as people count them. */
export function charCount(text: string): number {
  let count = text.length;
  for (let i = 0; i < text.length - 1; i += 1) {
    if (isHighSurrogate(text.charCodeAt(i)) && isLowSurrogate(text.charCodeAt(i + 1))) {
      count -= 1;
      i += 1;
    }
  }
  return count;
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}

function isLowSurrogate(unit: number): boolean {
  return unit >= 0xdc00 && unit <= 0xdfff;
}

/** UTF-8 bytes without Buffer, so that the protocol stays usable outside Node. */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (const char of text) {
    const code = char.codePointAt(0) ?? 0;
    bytes += code < 0x80 ? 1 : code < 0x800 ? 2 : code < 0x10000 ? 3 : 4;
  }
  return bytes;
}

/** A value quoted in a message: at most 40 characters, so a refusal never echoes a huge value. */
export function quoteShort(text: string): string {
  // 160 UTF-16 units hold at least 80 characters, more than are ever shown.
  const chars = Array.from(text.slice(0, 160));
  if (chars.length <= 40 && text.length <= 160) return `'${text}'`;
  return `'${chars.slice(0, 37).join('')}...'`;
}

export function tooLong(what: string, actual: number, limit: number, unit = 'characters'): string {
  return `${what} is ${actual} ${unit} long; the limit is ${limit} ${unit}.`;
}

/** `what` over `limit` characters gives the refusal; otherwise null. */
export function textViolation(what: string, text: string, limit: number): string | null {
  // Cheap first test: a string is never more characters than UTF-16 units.
  if (text.length <= limit) return null;
  const count = charCount(text);
  return count > limit ? tooLong(what, count, limit) : null;
}

export function commandViolation(command: string): string | null {
  // Cheap first test: a string is never more UTF-8 bytes than three per UTF-16 unit.
  if (command.length * 3 <= COMMAND_MAX_BYTES) return null;
  const bytes = utf8Length(command);
  if (bytes <= COMMAND_MAX_BYTES) return null;
  return `Command is ${bytes} bytes long (UTF-8); the limit is ${COMMAND_MAX_BYTES} bytes: put a longer script in a file, upload it and run that.`;
}

/** Bounds of a metadata map as sent in a create or edit request. */
export function metadataViolation(metadata: Metadata): { key: string; message: string } | null {
  const keys = Object.keys(metadata);
  if (keys.length > METADATA_MAX_KEYS) {
    return { key: '', message: `Metadata has ${keys.length} keys; the limit is ${METADATA_MAX_KEYS}.` };
  }
  for (const key of keys) {
    const message = keyViolation(key) ?? valueViolation(key, metadata[key]);
    if (message) return { key, message };
  }
  return null;
}

function keyViolation(key: string): string | null {
  const count = charCount(key);
  if (count === 0) return 'A metadata key may not be empty.';
  return count > METADATA_KEY_MAX_CHARS ? tooLong(`Metadata key ${quoteShort(key)}`, count, METADATA_KEY_MAX_CHARS) : null;
}

function valueViolation(key: string, value: Metadata[string] | undefined): string | null {
  if (Array.isArray(value)) {
    const what = key === 'tags' ? 'tags' : `items in ${quoteShort(key)}`;
    if (value.length > LIST_MAX_ITEMS) return `Too many ${what}: ${value.length}; the limit is ${LIST_MAX_ITEMS}.`;
    for (const [index, item] of value.entries()) {
      const itemName = key === 'tags' ? `Tag ${index + 1}` : `Item ${index + 1} of ${quoteShort(key)}`;
      const violation = textViolation(itemName, item, LIST_ITEM_MAX_CHARS);
      if (violation) return violation;
    }
    return null;
  }
  if (typeof value !== 'string') return null;
  if (key === 'name') return textViolation('Bundle name', value, NAME_MAX_CHARS);
  if (key === 'description') return textViolation('Description', value, TEXT_MAX_CHARS);
  return textViolation(`Metadata value ${quoteShort(key)}`, value, TEXT_MAX_CHARS);
}

/**
 * A dependency's key stays a relative path inside the run (no `..`, not absolute), and its
 * `parent_path` stays inside the parent bundle. `''` means the whole parent.
 */
export function dependencyPathViolation(dep: Pick<Dependency, 'child_path' | 'parent_path'>): string | null {
  const key = dep.child_path;
  const keyLength = textViolation(`Dependency key ${quoteShort(key)}`, key, CHILD_PATH_MAX_CHARS);
  if (keyLength) return keyLength;
  const path = dep.parent_path;
  const where = `Invalid path ${quoteShort(path)} of dependency ${quoteShort(key)}`;
  const pathLength = textViolation(`The path of dependency ${quoteShort(key)}`, path, PARENT_PATH_MAX_CHARS);
  if (pathLength) return pathLength;
  if (path.startsWith('/')) return `${where}: absolute paths are not allowed; give a path relative to the bundle.`;
  if (path.split('/').includes('..')) return `${where}: '..' is not allowed; paths stay inside their bundle.`;
  // eslint-disable-next-line no-control-regex -- refusing control characters in a path is the point
  if (/[\u0000-\u001f\u007f]/.test(path)) return `${where}: control characters are not allowed.`;
  return null;
}
