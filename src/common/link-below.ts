// Creating a symbolic link that an archive holds, after the rest of the archive is unpacked, in a
// directory only this process writes: tar would rewrite a target that leaves the archive (or
// refuse it), but a link is stored exactly as it was made, wherever it points, and never followed.
import { lstat, mkdir, symlink } from 'node:fs/promises';
import { posix } from 'node:path';

/** Why a link could not be created where the archive put it. */
export class LinkPlacementError extends Error {}

/** Whether a link's target, read from the link's own directory, leaves the extraction root. */
export function pointsOutside(path: string, linkpath: string): boolean {
  if (linkpath.startsWith('/')) return true;
  const resolved = posix.normalize(posix.join(posix.dirname(path), linkpath));
  return resolved === '..' || resolved.startsWith('../');
}

/** Creates the link `path` -> `target` below `root`, making missing directories, passing through no link. */
export async function createLinkBelow(root: string, path: string, target: string): Promise<void> {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const name = parts.pop();
  if (name === undefined) return;
  let dir = root;
  for (const part of parts) {
    dir = posix.join(dir, part);
    const stat = await lstat(dir).catch(() => null);
    if (stat === null) await mkdir(dir);
    else if (!stat.isDirectory()) throw new LinkPlacementError(`entry '${path}' lies below '${part}', which is not a directory`);
  }
  const at = posix.join(dir, name);
  if ((await lstat(at).catch(() => null)) !== null) throw new LinkPlacementError(`entry '${path}' appears twice in the archive`);
  await symlink(target, at);
}
