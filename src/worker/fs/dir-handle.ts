// Access to a directory tree that an untrusted run may change while the worker (often root)
// works in it. Every operation names ONE entry of a directory this process holds open, so the
// kernel, not a check, keeps it inside: the entry is reached through the `/proc/self/fd/N/NAME`
// magic link (Node has no openat) with O_NOFOLLOW, so a link swapped in anywhere is refused, and
// a directory once opened stays the same directory whatever is renamed around it. Nothing here
// ever resolves a path of more than one name below a held directory.
import { constants, type Stats } from 'node:fs';
import { lstat, open, readdir, readlink, rmdir, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;
/** O_NONBLOCK: opening a FIFO a run left in its tree must never hang the worker. (libuv adds O_CLOEXEC.) */
const SAFE_FLAGS = O_NOFOLLOW | O_NONBLOCK;

/** Why an entry could not be opened as asked; `code` is the errno the kernel gave. */
export class EntryError extends Error {
  constructor(
    readonly code: 'link' | 'missing' | 'not_directory' | 'not_file' | 'other',
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'EntryError';
  }
}

/** An open directory. Close it when done; entries of it are opened through it alone. */
export class DirHandle {
  private constructor(
    private readonly handle: FileHandle,
    /** For messages only: never used to reach a file. */
    readonly label: string,
  ) {}

  /**
   * Opens a directory by path. Only for a directory the worker itself controls (its work dir, a
   * run dir as a whole): whatever the path's last name is, it is refused if it is a link.
   */
  static async open(dir: string): Promise<DirHandle> {
    const handle = await open(dir, O_RDONLY | O_DIRECTORY | SAFE_FLAGS).catch((error: unknown) => {
      throw entryError(error, path.basename(dir), 'directory');
    });
    return new DirHandle(handle, dir);
  }

  /** The magic-link path of entry `name` of this directory. */
  private entry(name: string): string {
    if (!isPlainName(name)) throw new EntryError('other', `Invalid entry name '${name}'.`);
    return `/proc/self/fd/${this.handle.fd}/${name}`;
  }

  /** The sub-directory `name`; refused when it is a link or anything but a directory. */
  async openDir(name: string): Promise<DirHandle> {
    const handle = await open(this.entry(name), O_RDONLY | O_DIRECTORY | SAFE_FLAGS).catch(async (error: unknown) => {
      // With O_DIRECTORY Linux answers ENOTDIR for a link too; look again only to word the refusal.
      if ((error as { code?: string }).code === 'ENOTDIR' && (await this.lstat(name).catch(() => null))?.isSymbolicLink()) {
        throw new EntryError('link', `'${name}' is a symbolic link.`, { cause: error });
      }
      throw entryError(error, name, 'directory');
    });
    return new DirHandle(handle, path.join(this.label, name));
  }

  /**
   * The regular file `name`, opened with `flags` (O_CREAT allowed, never O_TRUNC: truncate after
   * checking what was opened). Refused when it is a link, a directory, a FIFO or a device.
   */
  async openFile(name: string, flags: number, mode = 0o644): Promise<FileHandle> {
    if ((flags & constants.O_TRUNC) !== 0) throw new Error('openFile: truncate after the type check, not with O_TRUNC');
    const handle = await open(this.entry(name), flags | SAFE_FLAGS, mode).catch((error: unknown) => {
      throw entryError(error, name, 'file');
    });
    const stat = await handle.stat().catch(async (error: unknown) => {
      await handle.close();
      throw error;
    });
    if (!stat.isFile()) {
      await handle.close();
      throw new EntryError('not_file', `'${name}' is not a regular file.`);
    }
    return handle;
  }

  /** Facts about entry `name` itself (a link is described, not followed); null when missing. */
  async lstat(name: string): Promise<Stats | null> {
    return lstat(this.entry(name)).catch((error: unknown) => {
      if (isMissing(error)) return null;
      throw error;
    });
  }

  async readlink(name: string): Promise<string> {
    return readlink(this.entry(name));
  }

  /** Entry names, sorted. */
  async list(): Promise<string[]> {
    return (await readdir(`/proc/self/fd/${this.handle.fd}`)).sort();
  }

  async stat(): Promise<Stats> {
    return this.handle.stat();
  }

  async chown(uid: number, gid: number): Promise<void> {
    await this.handle.chown(uid, gid);
  }

  async unlink(name: string): Promise<void> {
    await unlink(this.entry(name));
  }

  async rmdir(name: string): Promise<void> {
    await rmdir(this.entry(name));
  }

  async close(): Promise<void> {
    await this.handle.close();
  }
}

/** Runs `use` with `dir` open, closing it afterwards whatever happens. */
export async function withDir<T>(dir: DirHandle | Promise<DirHandle>, use: (dir: DirHandle) => Promise<T>): Promise<T> {
  const handle = await dir;
  try {
    return await use(handle);
  } finally {
    await handle.close();
  }
}

/** A single entry name: not empty, no `/`, not `.` or `..`. */
export function isPlainName(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

function isMissing(error: unknown): boolean {
  const code = (error as { code?: string }).code;
  return code === 'ENOENT';
}

function entryError(error: unknown, name: string, wanted: 'directory' | 'file'): Error {
  const code = (error as { code?: string }).code;
  // O_NOFOLLOW gives ELOOP for a link; with O_DIRECTORY, Linux gives ENOTDIR for a link too.
  if (code === 'ELOOP') return new EntryError('link', `'${name}' is a symbolic link.`, { cause: error });
  if (code === 'ENOENT') return new EntryError('missing', `'${name}' doesn't exist.`, { cause: error });
  if (code === 'ENOTDIR') return new EntryError('not_directory', `'${name}' is not a directory.`, { cause: error });
  if (code === 'EISDIR' || code === 'ENXIO') return new EntryError('not_file', `'${name}' is not a regular ${wanted}.`, { cause: error });
  return error instanceof Error ? error : new Error(String(error));
}
