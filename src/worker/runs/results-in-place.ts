// Hands a finished run's files to a server that shares this machine's file system: the run dir,
// less its dependency mount points, is renamed to the location the server gave, where the server
// takes it as the run's contents. No tar, no upload, no copy. Anything that keeps the rename from
// working (another file system, no permission, no such place) means "upload instead".
//
// The run's container has exited, so its processes are gone and the tree holds still; even so,
// mount points are removed through held directories, never by a path whose parents the run could
// have swapped for links to elsewhere.
import { lstat, rename } from 'node:fs/promises';
import path from 'node:path';
import { DirHandle, withDir } from '../fs/dir-handle.js';
import type { MountPoint } from './container-plan.js';

/** True when the run's files are at `location` now (moved by this call or by an earlier process). */
export async function moveResultsInPlace(runDir: string, location: string, mountPoints: readonly MountPoint[]): Promise<boolean> {
  const runDirThere = await lstat(runDir).catch(() => null);
  if (runDirThere === null) return (await lstat(location).catch(() => null))?.isDirectory() === true;
  const parent = await lstat(path.dirname(location)).catch(() => null);
  if (parent === null || !parent.isDirectory()) return false;
  for (const point of mountPoints) await removeMountPoint(runDir, point.path);
  try {
    await rename(runDir, location);
    return true;
  } catch {
    return false;
  }
}

/** Removes the (empty) mount point or link at `relative`, if it is still where it was made. */
async function removeMountPoint(runDir: string, relative: string): Promise<void> {
  const parts = relative.split('/').filter((p) => p !== '' && p !== '.');
  const name = parts.pop();
  if (name === undefined) return;
  const walk = async (dir: DirHandle, rest: string[]): Promise<void> => {
    const [next, ...more] = rest;
    if (next === undefined) {
      const stat = await dir.lstat(name);
      if (stat === null) return;
      // A directory the run filled is its own (it was moved there): leave it.
      if (stat.isDirectory()) await dir.rmdir(name).catch(() => undefined);
      else if (stat.size === 0 || stat.isSymbolicLink()) await dir.unlink(name).catch(() => undefined);
      return;
    }
    await withDir(dir.openDir(next), (sub) => walk(sub, more)).catch(() => undefined);
  };
  await withDir(DirHandle.open(runDir), (root) => walk(root, parts));
}
