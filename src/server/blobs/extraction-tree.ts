// Writes an archive's entries below a fresh root without ever following a link: it creates every
// directory itself and passes only through directories it created, opens files with
// O_CREAT|O_EXCL|O_NOFOLLOW, and refuses an entry below anything else (a link, a file).
// It must be the only writer below its root while it works.
import { constants } from 'node:fs';
import { chmod, mkdir, open, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Writable } from 'node:stream';
import { EntryRefused, belowLinkReason, shownName } from './entry-rules.js';

type Made = 'directory' | 'file' | 'link';

const CREATE_NEW_FILE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
/** Directories created on the way to an entry, before (or without) an entry of their own. */
const IMPLICIT_DIRECTORY_MODE = 0o755;

export class ExtractionTree {
  /** What this tree created, by path relative to the root ('' is the root itself). */
  private readonly made = new Map<string, Made>([['', 'directory']]);

  constructor(private readonly root: string) {}

  /** A directory entry; the owner keeps rwx so that entries below it can be written. */
  async directory(parts: string[], mode: number): Promise<void> {
    const key = parts.join('/');
    const existing = this.made.get(key);
    if (existing !== undefined && existing !== 'directory') throw twice(key);
    await this.parentOf(parts);
    const path = join(this.root, key);
    if (existing === undefined) await mkdir(path, { mode: mode | 0o700 });
    else await chmod(path, mode | 0o700);
    this.made.set(key, 'directory');
  }

  /** A file entry; `write` sends its contents into the new file and settles when they are written. */
  async file(parts: string[], mode: number, write: (out: Writable) => Promise<void>): Promise<void> {
    const key = parts.join('/');
    if (this.made.has(key)) throw twice(key);
    await this.parentOf(parts);
    const handle = await open(join(this.root, key), CREATE_NEW_FILE, mode);
    this.made.set(key, 'file');
    const out = handle.createWriteStream();
    try {
      await write(out);
    } catch (error) {
      out.destroy(); // closes the file, also when `write` failed before using it
      throw error;
    }
  }

  async link(parts: string[], target: string): Promise<void> {
    const key = parts.join('/');
    if (this.made.has(key)) throw twice(key);
    await this.parentOf(parts);
    await symlink(target, join(this.root, key));
    this.made.set(key, 'link');
  }

  /** Makes sure every ancestor of `parts` is a directory this tree created, creating missing ones. */
  private async parentOf(parts: string[]): Promise<void> {
    for (let i = 1; i < parts.length; i += 1) {
      const key = parts.slice(0, i).join('/');
      const made = this.made.get(key);
      if (made === 'link') throw new EntryRefused(belowLinkReason(parts.join('/'), key));
      if (made === 'file') throw new EntryRefused(`entry '${shownName(parts.join('/'))}' lies below '${key}', which is a file`);
      if (made === undefined) {
        await mkdir(join(this.root, key), { mode: IMPLICIT_DIRECTORY_MODE });
        this.made.set(key, 'directory');
      }
    }
  }
}

function twice(key: string): EntryRefused {
  return new EntryRefused(`entry '${shownName(key)}' appears twice in the archive`);
}
