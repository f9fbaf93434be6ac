// Small filesystem walks the worker needs: the total size of a tree, making a tree readable by
// other users, changing its owner and removing it. The walks over a run's directory go through
// DirHandle, so a run that swaps a directory for a link mid-walk cannot lead them out of its tree.
import { constants } from 'node:fs';
import { chmod, lstat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { DirHandle, EntryError, withDir } from './dir-handle.js';

/** Sum of the sizes of regular files under `root` (or of `root` itself if it is a file). */
export async function treeSize(root: string): Promise<number> {
  const stat = await lstat(root);
  if (!stat.isDirectory()) return stat.isFile() ? stat.size : 0;
  return withDir(DirHandle.open(root), sizeBelow);
}

async function sizeBelow(dir: DirHandle): Promise<number> {
  let total = 0;
  for (const name of await dir.list()) {
    const stat = await dir.lstat(name);
    if (stat === null) continue; // removed meanwhile
    if (stat.isFile()) total += stat.size;
    else if (stat.isDirectory()) total += await skipVanished(withDir(dir.openDir(name), sizeBelow), 0);
  }
  return total;
}

/**
 * Lets every user read the tree (and enter its directories), keeping execute bits where set.
 * Used on dependency downloads only, which no run can change while this runs.
 */
export async function makeReadableByAll(root: string): Promise<void> {
  const stat = await lstat(root);
  if (stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    await chmod(root, (stat.mode & 0o777) | 0o755);
    for (const entry of await readdir(root)) await makeReadableByAll(path.join(root, entry));
  } else if (stat.isFile()) {
    const executable = (stat.mode & 0o111) !== 0;
    // Never setuid or setgid: a dependency is mounted into runs of other users.
    await chmod(root, (stat.mode & 0o777) | 0o444 | (executable ? 0o111 : 0));
  }
}

/** Gives the directory `root` and everything below it to uid:gid (links themselves, not their targets). */
export async function chownTree(root: string, uid: number, gid: number): Promise<void> {
  await withDir(DirHandle.open(root), async (dir) => {
    await dir.chown(uid, gid);
    await chownBelow(dir, uid, gid);
  });
}

async function chownBelow(dir: DirHandle, uid: number, gid: number): Promise<void> {
  for (const name of await dir.list()) {
    const stat = await dir.lstat(name);
    if (stat === null) continue;
    if (stat.isDirectory()) {
      await skipVanished(
        withDir(dir.openDir(name), async (sub) => {
          await sub.chown(uid, gid);
          await chownBelow(sub, uid, gid);
        }),
        undefined,
      );
    } else if (stat.isFile()) {
      const handle = await skipVanished(dir.openFile(name, constants.O_RDONLY), null);
      if (handle === null) continue;
      await handle.chown(uid, gid).finally(() => handle.close());
    }
    // Links and anything else stay as they are: changing them needs a path, never safe here.
  }
}

/**
 * Removes the directory `dir` and everything in it, never following a link: entries are removed
 * one name at a time inside held directories. A missing `dir` is fine.
 */
export async function removeTree(dir: string): Promise<void> {
  const parent = path.dirname(dir);
  const name = path.basename(dir);
  await withDir(DirHandle.open(parent), async (held) => {
    const stat = await held.lstat(name);
    if (stat === null) return;
    await removeEntry(held, name, stat.isDirectory());
  });
}

async function removeEntry(parent: DirHandle, name: string, isDirectory: boolean): Promise<void> {
  if (!isDirectory) {
    await parent.unlink(name).catch(ignoreMissing);
    return;
  }
  const emptied = await withDir(parent.openDir(name), async (dir) => {
    for (const child of await dir.list()) {
      const stat = await dir.lstat(child);
      if (stat !== null) await removeEntry(dir, child, stat.isDirectory());
    }
  }).then(
    () => true,
    (error: unknown) => {
      // Swapped for a link or a file since it was listed: remove that entry itself.
      if (error instanceof EntryError && (error.code === 'link' || error.code === 'not_directory')) return false;
      if (error instanceof EntryError && error.code === 'missing') return null;
      throw error;
    },
  );
  if (emptied === true) await parent.rmdir(name).catch(ignoreMissing);
  else if (emptied === false) await removeEntry(parent, name, false);
}

function ignoreMissing(error: unknown): void {
  if ((error as { code?: string }).code !== 'ENOENT') throw error;
}

/** The value of `work`, or `fallback` when what it walks was removed or swapped meanwhile. */
async function skipVanished<T>(work: Promise<T>, fallback: T): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (error instanceof EntryError && error.code !== 'other') return fallback;
    throw error;
  }
}
