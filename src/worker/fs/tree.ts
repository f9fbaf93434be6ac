// Small filesystem walks the worker needs: total size of a tree, making a tree readable by
// other users, and changing its owner. They never follow symlinks.
import { chmod, lchown, lstat, readdir } from 'node:fs/promises';
import path from 'node:path';

/** Sum of the sizes of regular files under `root` (or of `root` itself if it is a file). */
export async function treeSize(root: string): Promise<number> {
  const stat = await lstat(root);
  if (!stat.isDirectory()) return stat.isFile() ? stat.size : 0;
  let total = 0;
  for (const entry of await readdir(root, { withFileTypes: true })) {
    const child = path.join(root, entry.name);
    if (entry.isDirectory()) total += await treeSize(child);
    else if (entry.isFile()) total += (await lstat(child)).size;
  }
  return total;
}

/** Lets every user read the tree (and enter its directories), keeping execute bits where set. */
export async function makeReadableByAll(root: string): Promise<void> {
  const stat = await lstat(root);
  if (stat.isSymbolicLink()) return;
  if (stat.isDirectory()) {
    await chmod(root, (stat.mode & 0o7777) | 0o755);
    for (const entry of await readdir(root)) await makeReadableByAll(path.join(root, entry));
  } else {
    const executable = (stat.mode & 0o111) !== 0;
    await chmod(root, (stat.mode & 0o7777) | 0o444 | (executable ? 0o111 : 0));
  }
}

/** Gives the whole tree to uid:gid (symlinks themselves, not their targets). */
export async function chownTree(root: string, uid: number, gid: number): Promise<void> {
  await lchown(root, uid, gid);
  const stat = await lstat(root);
  if (!stat.isDirectory()) return;
  for (const entry of await readdir(root)) await chownTree(path.join(root, entry), uid, gid);
}
