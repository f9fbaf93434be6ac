// What may be stored from an archive entry, one set of rules for tar and zip alike: where it may
// land, what its links may point to, which kinds of file are refused, which mode bits are kept,
// and how a failure is told to the user (never with a server path in it). No I/O here.
import { ApiError } from '../../protocol/index.js';

/** Permission bits only: setuid, setgid and sticky bits are never stored. */
export const PERMISSION_BITS = 0o777;

/** An entry the rules refuse; unpackers turn it into the refusal of the whole archive. */
export class EntryRefused extends Error {}

/** How an entry's name is shown in messages: a NUL byte is written out, not sent raw. */
export function shownName(path: string): string {
  return path.replace(/\0/g, '\\0');
}

/**
 * Why an archive entry is unsafe, or null when it stays inside the extraction root. A symbolic
 * link may point anywhere, outside the bundle or nowhere (virtualenvs and conda environments are
 * full of such links): it is stored as a link and never followed on the server or the worker.
 */
export function unsafeEntryReason(path: string, type: string, linkpath: string | undefined): string | null {
  if (path.includes('\0')) return `entry '${shownName(path)}' has a NUL byte in its name`;
  if (path.startsWith('/') || path.split('/').includes('..')) return `entry '${path}' points outside the bundle`;
  if (type === 'SymbolicLink' && linkpath !== undefined) {
    if (linkpath.includes('\0')) return `link '${path}' has a NUL byte in its target`;
  }
  if (type === 'Link' && linkpath !== undefined && (linkpath.startsWith('/') || linkpath.split('/').includes('..'))) {
    return `hard link '${path}' -> '${linkpath}' points outside the bundle`;
  }
  return null;
}

const SPECIAL_FILES: Readonly<Record<string, string>> = {
  CharacterDevice: 'a character device',
  BlockDevice: 'a block device',
  FIFO: 'a FIFO',
  Socket: 'a socket',
};

/** Why an entry of this (node-tar style) type is refused: bundles hold files, directories and links only. */
export function specialFileReason(path: string, type: string): string | null {
  const what = SPECIAL_FILES[type];
  return what === undefined ? null : `entry '${shownName(path)}' is ${what}; bundles hold only files, directories and links`;
}

/** A path's components, without empty or `.` ones: `./a//b/` is `a/b`. */
export function pathParts(path: string): string[] {
  return path.split('/').filter((p) => p !== '' && p !== '.');
}

/**
 * Remembers which entries are links, so that an entry below one is refused before anything
 * writes through it: the rule holds whether or not the link exists on disk yet.
 */
export class LinkEntries {
  private readonly links = new Set<string>();

  add(path: string): void {
    this.links.add(pathParts(path).join('/'));
  }

  /** The link entry that `path` would pass through, or null. */
  linkAbove(path: string): string | null {
    const parts = pathParts(path);
    for (let i = 1; i < parts.length; i += 1) {
      const prefix = parts.slice(0, i).join('/');
      if (this.links.has(prefix)) return prefix;
    }
    return null;
  }
}

export function belowLinkReason(path: string, link: string): string {
  return `entry '${shownName(path)}' lies below '${link}', which is a symbolic link`;
}

/** The refusal of a whole archive: nothing of it is stored. */
export function archiveRefused(fileName: string, reason: string): ApiError {
  return new ApiError('bad_request', `Archive '${fileName}' rejected, nothing stored: ${reason}.`);
}

/**
 * A failure while unpacking, as the user sees it. Messages from tar, zip or the file system may
 * name paths in the server's staging area: those are cut down to the part inside the archive.
 */
export function unpackFailure(fileName: string, error: unknown, workDir: string): ApiError {
  if (error instanceof ApiError) return error;
  if (error instanceof EntryRefused) return archiveRefused(fileName, error.message);
  const raw = error instanceof Error ? error.message : String(error);
  const message = raw.split(`${workDir}/`).join('').split(workDir).join('.');
  return new ApiError('bad_request', `Cannot unpack '${fileName}': ${message}`, { cause: error });
}
