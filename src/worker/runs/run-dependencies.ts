// A run's dependencies on the worker: fetching them through the dependency cache, and laying out
// their mount points in the run dir. It holds no run state: progress, held copies and failures go
// back to the caller, which alone changes state and releases the copies at clean-up.
import { mkdir, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { RunSpec } from '../../protocol/index.js';
import { errorMessage } from '../../common/error-message.js';
import type { CachedDependency } from '../deps/dependency-cache.js';
import type { DependencySource } from '../deps/dependency-source.js';
import type { Mount } from '../docker/container-runtime.js';
import type { DependencyMount } from '../reads/run-paths.js';
import type { MountPoint, PlannedDependency } from './container-plan.js';
import { dependencyProgressText, type ByteProgress } from './progress-text.js';

export interface DependencyFetchHooks {
  /** Each cached copy as soon as it is acquired, so a run stopped part-way still releases it. */
  onHeld(cached: CachedDependency): void;
  onProgress(text: string): void;
}

/** The planned dependencies, the failure message of the run, or null when the fetch was aborted. */
export type DependencyFetch = { deps: PlannedDependency[] } | { failure: string } | null;

export async function fetchDependencies(
  cache: DependencySource,
  dependencies: RunSpec['dependencies'],
  signal: AbortSignal,
  hooks: DependencyFetchHooks,
): Promise<DependencyFetch> {
  // Bytes of each dependency being downloaded; cached ones never show up here.
  const downloads = new Map<number, ByteProgress>();
  const results = await Promise.allSettled(
    dependencies.map(async (dep, i) => {
      const cached = await cache.acquire(dep, signal, (progress) => {
        downloads.set(i, progress);
        hooks.onProgress(dependencyProgressText([...downloads.values()]));
      });
      hooks.onHeld(cached);
      const entries = cached.isDirectory && path.normalize(dep.child_path) === '.' ? await spreadEntries(cached.path) : undefined;
      return { childPath: dep.child_path, hostPath: cached.path, isDirectory: cached.isDirectory, ...(entries ? { entries } : {}) };
    }),
  );
  if (signal.aborted) return null;
  const failed = results.findIndex((r) => r.status === 'rejected');
  if (failed === -1) return { deps: results.map((r) => (r as PromiseFulfilledResult<PlannedDependency>).value) };
  const dep = dependencies[failed];
  const reason = (results[failed] as PromiseRejectedResult).reason;
  return { failure: `Failed to download dependency ${dep?.child_path ?? '?'}: ${errorMessage(reason)}` };
}

/** The entries of a directory spread with `.`; a link keeps its target (see PlannedDependency). */
async function spreadEntries(dir: string): Promise<NonNullable<PlannedDependency['entries']>> {
  const entries = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const linkTarget = e.isSymbolicLink() ? await readlink(path.join(dir, e.name)) : undefined;
    entries.push({ name: e.name, isDirectory: e.isDirectory(), ...(linkTarget !== undefined ? { linkTarget } : {}) });
  }
  return entries;
}

/** Dependency mount points with their cached copies, for reads of the running bundle. */
export function listDependencyMounts(mounts: readonly Mount[], uuid: string): DependencyMount[] {
  const home = `/${uuid}/`;
  return mounts
    .filter((m) => m.readOnly && m.target.startsWith(home))
    .map((m) => ({ path: m.target.slice(home.length), hostPath: m.source }));
}

/**
 * Empty files and dirs where dependencies will be mounted, owned by us rather than by Docker, and
 * the links of spread dependencies (the run dir is new and only ours until the container starts).
 */
export async function createMountPoints(runDir: string, points: readonly MountPoint[]): Promise<void> {
  for (const point of points) {
    const target = path.join(runDir, point.path);
    await mkdir(path.dirname(target), { recursive: true });
    if (point.linkTarget !== undefined) await symlink(point.linkTarget, target).catch(ignoreExisting);
    else if (point.isDirectory) await mkdir(target, { recursive: true });
    else await writeFile(target, '', { flag: 'a' });
  }
}

/** A resumed preparation makes its links again; one already there is the same link. */
function ignoreExisting(error: unknown): void {
  if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
}
