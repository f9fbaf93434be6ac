// A plain tar stream of a directory tree that a run may still be changing: walked through
// DirHandle (one name at a time inside held directories, links never followed), with each
// file's bytes read from the handle that was checked to be a regular file. Entries are named
// `./a/b` as `tar -C DIR -c .` names them. Only files, directories and links are written;
// FIFOs, sockets and devices are left out, and setuid, setgid and sticky bits are dropped.
// Under a byte budget (packTreeWithinBudget) entries that do not fit are left out and tallied;
// the stream always ends with a valid end-of-archive.
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { DirHandle, EntryError } from './dir-handle.js';
import { END_OF_ARCHIVE_BYTES, fileEntryBytes, reserveFor, TarBudget, type TarBudgetReport } from './tar-budget.js';
import { encodeTarHeader, tarPadding, type TarHeader } from './tar-header.js';

const CHUNK_BYTES = 1024 * 1024;
/** The header of a short name: what a later `first` entry is reckoned to cost besides its bytes. */
const PLAIN_HEADER_BYTES = 512;

export interface TreeTarOptions {
  /** True for a relative path (`a/b`, no `./`) to leave out, with everything below it. */
  exclude?: (relative: string) => boolean;
}

export interface TreeTarBudget {
  /** Most bytes of the whole stream, headers, padding and end-of-archive included. */
  maxBytes: number;
  /**
   * Top-level names written before everything else, in this order (a run's stdout and stderr,
   * so its output survives). Each may be cut to its head when it does not fit whole, sharing
   * what is left fairly with the later ones; every other file is written whole or left out.
   */
  first?: readonly string[];
}

export interface BudgetedTree {
  stream: Readable;
  /** What the budget kept and left out; complete once `stream` has ended. */
  report: TarBudgetReport;
}

/**
 * Tars everything below `root`: a held directory, which the stream owns and closes when it ends,
 * or the path of a directory the worker itself made (a run dir), opened when reading starts.
 */
export function packTree(root: DirHandle | string, options: TreeTarOptions = {}): Readable {
  return Readable.from(tarChunks(root, options, new TarBudget(Infinity), []), { objectMode: false });
}

/** packTree within `budget.maxBytes` stream bytes, with the tally of what did not fit. */
export function packTreeWithinBudget(root: DirHandle | string, budget: TreeTarBudget, options: TreeTarOptions = {}): BudgetedTree {
  const tally = new TarBudget(budget.maxBytes);
  const stream = Readable.from(tarChunks(root, options, tally, budget.first ?? []), { objectMode: false });
  return { stream, report: tally.report };
}

interface Walk {
  options: TreeTarOptions;
  budget: TarBudget;
}

async function* tarChunks(rootOrPath: DirHandle | string, options: TreeTarOptions, budget: TarBudget, first: readonly string[]): AsyncGenerator<Buffer> {
  const root = typeof rootOrPath === 'string' ? await DirHandle.open(rootOrPath) : rootOrPath;
  const walk: Walk = { options, budget };
  try {
    const stat = await root.stat();
    const header = encodeTarHeader({ name: './', type: 'directory', mode: stat.mode, size: 0, mtime: stat.mtimeMs });
    budget.spend(header.length);
    yield header;
    const names = await root.list();
    const firstPresent = first.filter((name) => names.includes(name) && !options.exclude?.(name));
    yield* firstEntries(root, firstPresent, walk);
    const rest = names.filter((name) => !firstPresent.includes(name));
    yield* directoryEntries(root, '', rest, walk);
    yield Buffer.alloc(END_OF_ARCHIVE_BYTES);
  } finally {
    await root.close();
  }
}

/** The `first` names, in order; a file among them too big for its share keeps its head. */
async function* firstEntries(root: DirHandle, names: readonly string[], walk: Walk): AsyncGenerator<Buffer> {
  const sizes = await Promise.all(names.map(async (name) => (await root.lstat(name))?.size ?? 0));
  for (const [index, name] of names.entries()) {
    const later = sizes.slice(index + 1).map((size) => fileEntryBytes(PLAIN_HEADER_BYTES, size));
    yield* entry(root, '', name, walk, reserveFor(later, walk.budget.remaining));
  }
}

async function* directoryEntries(dir: DirHandle, prefix: string, names: readonly string[], walk: Walk): AsyncGenerator<Buffer> {
  for (const name of names) yield* entry(dir, prefix, name, walk, null);
}

/**
 * One entry and, for a directory, everything below it. `cutReserve` is null for an entry written
 * whole or not at all, else the stream bytes to leave for later ones when cutting it.
 */
async function* entry(dir: DirHandle, prefix: string, name: string, walk: Walk, cutReserve: number | null): AsyncGenerator<Buffer> {
  const { options, budget } = walk;
  const relative = prefix === '' ? name : `${prefix}/${name}`;
  if (options.exclude?.(relative)) return;
  const stat = await dir.lstat(name);
  if (stat === null) return; // removed since it was listed
  const base = { name: `./${relative}`, mode: stat.mode, mtime: stat.mtimeMs };
  if (stat.isSymbolicLink()) {
    const target = await dir.readlink(name).catch(() => null);
    if (target === null) return;
    const header = encodeTarHeader({ ...base, type: 'link', size: 0, linkname: target });
    if (budget.take(header.length)) yield header;
    else budget.drop(0);
  } else if (stat.isDirectory()) {
    const sub = await openOrSkip(dir.openDir(name));
    if (sub === null) return;
    try {
      const header = encodeTarHeader({ ...base, name: `./${relative}/`, type: 'directory', size: 0 });
      // Below a directory every header is at least as long as its own: if it does not fit, nothing there does.
      if (!budget.take(header.length)) {
        await tallyLeftOut(sub, relative, walk);
        return;
      }
      yield header;
      yield* directoryEntries(sub, relative, await sub.list(), walk);
    } finally {
      await sub.close();
    }
  } else if (stat.isFile()) {
    const handle = await openOrSkip(dir.openFile(name, constants.O_RDONLY));
    if (handle === null) return;
    try {
      // The handle's own size: what was opened is what is described.
      const opened = await handle.stat();
      yield* fileEntry(handle, { ...base, type: 'file', size: opened.size, mode: opened.mode }, relative, budget, cutReserve);
    } finally {
      await handle.close();
    }
  }
}

/** A file whole when it fits; else its head (when it may be cut) or nothing, tallied. */
async function* fileEntry(handle: FileHandle, header: TarHeader, relative: string, budget: TarBudget, cutReserve: number | null): AsyncGenerator<Buffer> {
  const size = header.size;
  const whole = encodeTarHeader(header);
  const fitsWhole = fileEntryBytes(whole.length, size) <= budget.remaining - (cutReserve ?? 0);
  if (fitsWhole && budget.takeFile(whole.length, size)) {
    yield whole;
    yield* fileBytes(handle, size);
    return;
  }
  const kept = cutReserve === null ? 0 : budget.cutSize(whole.length, size, cutReserve);
  if (kept === 0) {
    budget.drop(size);
    return;
  }
  const cut = encodeTarHeader({ ...header, size: kept });
  budget.takeCut(relative, cut.length, size, kept);
  yield cut;
  yield* fileBytes(handle, kept);
}

/** Counts the files below a directory left out for want of budget (sizes as listed; nothing is read). */
async function tallyLeftOut(dir: DirHandle, prefix: string, walk: Walk): Promise<void> {
  for (const name of await dir.list()) {
    const relative = `${prefix}/${name}`;
    if (walk.options.exclude?.(relative)) continue;
    const stat = await dir.lstat(name);
    if (stat === null) continue;
    if (stat.isFile() || stat.isSymbolicLink()) walk.budget.drop(stat.isFile() ? stat.size : 0);
    if (!stat.isDirectory()) continue;
    const sub = await openOrSkip(dir.openDir(name));
    if (sub === null) continue;
    try {
      await tallyLeftOut(sub, relative, walk);
    } finally {
      await sub.close();
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
