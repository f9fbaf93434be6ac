// Dependencies on a worker that shares the server's file system (`--shared-file-system`, and the
// local instance's embedded worker): each is mounted read-only straight from the server's bundle
// store, at the location the server sent, with no download. A dependency sent without a location,
// or whose location this machine does not see, comes through the cache as on any worker.
//
// Resolving the path inside the parent checks and then uses, which is safe here only because
// nobody but the server writes a bundle's contents once it is final, and a run's parents are final
// before it is sent: no user can swap a link in between. The check refuses every symbolic link on
// the way, the last component included, since Docker would follow it on the host.
import { lstat } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from '../../common/log.js';
import type { CachedDependency, DependencyCache, DependencyKey, DownloadListener } from './dependency-cache.js';
import type { DependencySource } from './dependency-source.js';

export class SharedStoreDependencies implements DependencySource {
  private warnedUnseen = false;

  constructor(
    private readonly cache: DependencyCache,
    private readonly log: Logger,
  ) {}

  async acquire(key: DependencyKey, signal?: AbortSignal, onProgress?: DownloadListener): Promise<CachedDependency> {
    const location = key.location;
    if (location === undefined || !path.isAbsolute(location) || !(await isPlainEntry(location))) {
      if (location !== undefined && !this.warnedUnseen) {
        this.warnedUnseen = true;
        this.log.warn(`The bundle store is not at ${path.dirname(location)} on this machine; dependencies are downloaded instead.`);
      }
      return this.cache.acquire(key, signal, onProgress);
    }
    const target = await resolveInStore(location, key.parent_path, key.parent_uuid);
    return { path: target.path, isDirectory: target.isDirectory, release: () => {} };
  }

  keys(): string[] {
    return this.cache.keys();
  }
}

async function isPlainEntry(location: string): Promise<boolean> {
  const stat = await lstat(location).catch(() => null);
  return stat !== null && (stat.isDirectory() || stat.isFile());
}

/** The host path of `subPath` inside a bundle's contents; no `..`, no symbolic link anywhere. */
export async function resolveInStore(root: string, subPath: string, uuid: string): Promise<{ path: string; isDirectory: boolean }> {
  const parts = subPath.split('/').filter((p) => p !== '' && p !== '.');
  const named = subPath === '' ? `bundle ${uuid}` : `'${subPath}' of bundle ${uuid}`;
  if (parts.includes('..')) throw new Error(`Dependency path ${named} may not contain '..'.`);
  let current = root;
  for (let i = 0; ; i += 1) {
    const stat = await lstat(current).catch(() => null);
    if (!stat) throw new Error(`Dependency path ${named} does not exist.`);
    if (stat.isSymbolicLink()) {
      throw new Error(`Dependency path ${named} is or passes through a symbolic link; depend on the path it points to.`);
    }
    const part = parts[i];
    if (part === undefined) {
      if (!stat.isDirectory() && !stat.isFile()) throw new Error(`Dependency path ${named} is not a file or a directory.`);
      return { path: current, isDirectory: stat.isDirectory() };
    }
    if (!stat.isDirectory()) throw new Error(`Dependency path ${named} does not exist.`);
    current = path.join(current, part);
  }
}
