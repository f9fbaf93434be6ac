// Where a run's dependencies come from: the worker's dependency cache (downloaded once, shared by
// every run), or, on a worker that shares the server's file system, the bundle store itself.
import type { CachedDependency, DependencyKey, DownloadListener } from './dependency-cache.js';

export interface DependencySource {
  /** Holds the dependency (fetching it if needed) until the returned copy is released. */
  acquire(key: DependencyKey, signal?: AbortSignal, onProgress?: DownloadListener): Promise<CachedDependency>;
  /** `uuid:path` of every dependency held on this machine, for the scheduler's locality. */
  keys(): string[];
}
