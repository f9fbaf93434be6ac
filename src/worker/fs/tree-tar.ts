// A plain tar stream of a directory tree that a run may still be changing: walked through
// DirHandle (one name at a time inside held directories, links never followed), with each
// file's bytes read from the handle that was checked to be a regular file. Entries are named
// `./a/b` as `tar -C DIR -c .` names them. Only files, directories and links are written;
// FIFOs, sockets and devices are left out, and setuid, setgid and sticky bits are dropped.
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { DirHandle, EntryError } from './dir-handle.js';
import { encodeTarHeader, TAR_BLOCK, tarPadding } from './tar-header.js';

const CHUNK_BYTES = 1024 * 1024;

export interface TreeTarOptions {
  /** True for a relative path (`a/b`, no `./`) to leave out, with everything below it. */
  exclude?: (relative: string) => boolean;
}

/**
 * Tars everything below `root`: a held directory, which the stream owns and closes when it ends,
 * or the path of a directory the worker itself made (a run dir), opened when reading starts.
 */
export function packTree(root: DirHandle | string, options: TreeTarOptions = {}): Readable {
  return Readable.from(tarChunks(root, options), { objectMode: false });
}

async function* tarChunks(rootOrPath: DirHandle | string, options: TreeTarOptions): AsyncGenerator<Buffer> {
  const root = typeof rootOrPath === 'string' ? await DirHandle.open(rootOrPath) : rootOrPath;
  try {
    const stat = await root.stat();
    yield encodeTarHeader({ name: './', type: 'directory', mode: stat.mode, size: 0, mtime: stat.mtimeMs });
    yield* directoryEntries(root, '', options);
    // Two empty blocks end the archive.
    yield Buffer.alloc(TAR_BLOCK * 2);
  } finally {
    await root.close();
  }
}

async function* directoryEntries(dir: DirHandle, prefix: string, options: TreeTarOptions): AsyncGenerator<Buffer> {
  for (const name of await dir.list()) {
    const relative = prefix === '' ? name : `${prefix}/${name}`;
    if (options.exclude?.(relative)) continue;
    const stat = await dir.lstat(name);
    if (stat === null) continue; // removed since it was listed
    const base = { name: `./${relative}`, mode: stat.mode, mtime: stat.mtimeMs };
    if (stat.isSymbolicLink()) {
      const target = await dir.readlink(name).catch(() => null);
      if (target !== null) yield encodeTarHeader({ ...base, type: 'link', size: 0, linkname: target });
    } else if (stat.isDirectory()) {
      const sub = await openOrSkip(dir.openDir(name));
      if (sub === null) continue;
      try {
        yield encodeTarHeader({ ...base, name: `./${relative}/`, type: 'directory', size: 0 });
        yield* directoryEntries(sub, relative, options);
      } finally {
        await sub.close();
      }
    } else if (stat.isFile()) {
      const handle = await openOrSkip(dir.openFile(name, constants.O_RDONLY));
      if (handle === null) continue;
      try {
        // The handle's own size: what was opened is what is described.
        const opened = await handle.stat();
        yield encodeTarHeader({ ...base, type: 'file', size: opened.size, mode: opened.mode });
        yield* fileBytes(handle, opened.size);
      } finally {
        await handle.close();
      }
    }
  }
}

/** Exactly `size` bytes of the file then the block padding; zeros stand in for what was truncated meanwhile. */
async function* fileBytes(handle: FileHandle, size: number): AsyncGenerator<Buffer> {
  let position = 0;
  while (position < size) {
    const want = Math.min(CHUNK_BYTES, size - position);
    const buffer = Buffer.allocUnsafe(want);
    const { bytesRead } = await handle.read(buffer, 0, want, position);
    if (bytesRead === 0) {
      yield Buffer.alloc(size - position);
      break;
    }
    position += bytesRead;
    yield bytesRead === want ? buffer : buffer.subarray(0, bytesRead);
  }
  const padding = tarPadding(size);
  if (padding > 0) yield Buffer.alloc(padding);
}

/** The opened entry, or null when it vanished or changed kind since it was listed. */
async function openOrSkip<T>(opening: Promise<T>): Promise<T | null> {
  try {
    return await opening;
  } catch (error) {
    if (error instanceof EntryError && error.code !== 'other') return null;
    throw error;
  }
}
