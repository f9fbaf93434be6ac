// What a zip entry is, read from its central directory record: its name (decoded strictly as
// UTF-8, backslashes read as separators), its kind (file, directory, symbolic link, or a refused
// special file) and its permission bits, from the unix mode kept in the upper 16 bits of the
// external attributes. No I/O, no rules about where entries may land (entry-rules.ts has those).
import type { Entry } from 'yauzl';
import { PERMISSION_BITS, shownName, specialFileReason } from './entry-rules.js';

export type ZipEntryKind =
  | {
      type: 'file' | 'directory' | 'link';
      /** The name with `/` separators, as the rules and the extraction see it. */
      path: string;
      /** Permission bits from the unix mode, or null when the archive records none. */
      permissions: number | null;
    }
  | { type: 'refused'; reason: string };

/** Made-by hosts whose external attributes carry a unix mode: Unix (3) and OS X (19). */
const UNIX_HOSTS: ReadonlySet<number> = new Set([3, 19]);

const S_IFMT = 0o170000;
const UNIX_FILE_TYPES: Readonly<Record<number, string>> = {
  0o140000: 'Socket',
  0o120000: 'SymbolicLink',
  0o100000: 'File',
  0o060000: 'BlockDevice',
  0o040000: 'Directory',
  0o020000: 'CharacterDevice',
  0o010000: 'FIFO',
};

export function classifyZipEntry(entry: Entry): ZipEntryKind {
  const decoded = decodeUtf8(entry.fileNameRaw);
  if (decoded === null) return { type: 'refused', reason: `an entry name is not valid UTF-8 ('${entry.fileNameRaw.toString('latin1')}')` };
  // Zip tools for Windows write `\` as the separator: read it as one, so that `..\x` climbs too.
  const path = decoded.replace(/\\/g, '/');
  if (/^[a-zA-Z]:/.test(path)) return { type: 'refused', reason: `entry '${shownName(path)}' points outside the bundle` };
  const mode = UNIX_HOSTS.has(entry.versionMadeBy >> 8) ? entry.externalFileAttributes >>> 16 : 0;
  const unixType = mode & S_IFMT;
  const typeName = unixType === 0 ? 'File' : UNIX_FILE_TYPES[unixType];
  if (typeName === undefined) return { type: 'refused', reason: `entry '${shownName(path)}' has an unknown file type (mode ${mode.toString(8)})` };
  const special = specialFileReason(path, typeName);
  if (special !== null) return { type: 'refused', reason: special };
  const permissions = mode === 0 ? null : mode & PERMISSION_BITS;
  if (typeName === 'SymbolicLink') return { type: 'link', path, permissions: null };
  const isDirectory = typeName === 'Directory' || path.endsWith('/');
  return { type: isDirectory ? 'directory' : 'file', path, permissions };
}

/** The bytes as UTF-8, or null when they are not valid UTF-8 (no replacement characters). */
export function decodeUtf8(bytes: Buffer): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
  } catch {
    return null;
  }
}
