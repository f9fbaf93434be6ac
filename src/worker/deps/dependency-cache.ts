// The dependency cache: each (parent uuid, parent path) is downloaded once into the work dir and
// shared by every run that needs it, with one download per key at a time, a temp dir renamed into
// place (so a present entry is always complete), and LRU eviction of unused entries above a size
// cap. It knows nothing of runs or containers: it hands out host paths and reference counts, and
// tells every run that waits for a download how far it got.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../../common/clock.js';
import { makeReadableByAll, treeSize } from '../fs/tree.js';
import type { Logger } from '../../common/log.js';
import { withRetry } from '../retry.js';
import { downloadInto, type FetchBlob } from './dependency-fetch.js';
import type { DependencySource } from './dependency-source.js';

export interface DependencyKey {
  parent_uuid: string;
  parent_path: string;
  /** Size of the parent bundle, when the key is all of it: the total shown while downloading. */
  data_size?: number | undefined;
  /** Where the parent lies in the server's bundle store, sent to workers that share it. */
  location?: string | undefined;
}

export interface DownloadProgress {
  done: number;
  total: number | null;
}

export type DownloadListener = (progress: DownloadProgress) => void;

export interface CachedDependency {
  /** Host path of the cached file or directory; read-only to runs by convention. */
  path: string;
  isDirectory: boolean;
  /** Call once when the run no longer needs it; it may then be evicted. */
  release(): void;
}

interface Entry {
  name: string;
  key: string;
  refs: number;
  lastUsed: number;
  sizeBytes: number;
  isDirectory: boolean;
  /** Pending while downloading; resolved once the entry is in place. */
  ready: Promise<void>;
  done: boolean;
  /** Told of every chunk downloaded, while downloading. */
  listeners: Set<DownloadListener>;
}

export interface DependencyCacheOptions {
  dir: string;
  fetchBlob: FetchBlob;
  maxBytes: number;
  log: Logger;
  clock: Clock;
  /** Aborts in-flight downloads when the worker stops. */
  signal: AbortSignal;
}

/** `0x…~<base64url(path)>`: reversible, safe as a file name, one name per key. */
export function entryName(key: DependencyKey): string {
  return `${key.parent_uuid}~${Buffer.from(key.parent_path, 'utf8').toString('base64url')}`;
}

export function keyOfEntryName(name: string): DependencyKey | null {
  const match = /^(0x[0-9a-f]{32})~([A-Za-z0-9_-]*)$/.exec(name);
  if (!match?.[1] || match[2] === undefined) return null;
  return { parent_uuid: match[1], parent_path: Buffer.from(match[2], 'base64url').toString('utf8') };
}

export class DependencyCache implements DependencySource {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly options: DependencyCacheOptions) {}

  /** Drops half-finished downloads left by an earlier process and indexes what is complete. */
  async init(): Promise<void> {
    await mkdir(this.options.dir, { recursive: true });
    for (const dirent of await readdir(this.options.dir, { withFileTypes: true })) {
      const full = path.join(this.options.dir, dirent.name);
      const key = keyOfEntryName(dirent.name);
      if (!key) {
        await rm(full, { recursive: true, force: true });
        continue;
      }
      this.entries.set(dirent.name, {
        name: dirent.name,
        key: `${key.parent_uuid}:${key.parent_path}`,
        refs: 0,
        lastUsed: this.options.clock.now(),
        sizeBytes: await treeSize(full),
        isDirectory: dirent.isDirectory(),
        ready: Promise.resolve(),
        done: true,
        listeners: new Set(),
      });
    }
  }

  /** `uuid:path` of every entry, cached or downloading, for the scheduler's locality. */
  keys(): string[] {
    return [...this.entries.values()].map((e) => e.key);
  }

  /**
   * Waits for the dependency (downloading it if nobody has) and holds it until release();
   * `onProgress` hears how far a download got while it waits.
   */
  async acquire(key: DependencyKey, signal?: AbortSignal, onProgress?: DownloadListener): Promise<CachedDependency> {
    const entry = this.entryFor(key);
    if (onProgress && !entry.done) entry.listeners.add(onProgress);
    entry.refs += 1;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      entry.refs -= 1;
      entry.lastUsed = this.options.clock.now();
      void this.evict().catch((error: unknown) => this.options.log.warn(`Cache eviction failed: ${String(error)}`));
    };
    try {
      await raceAbort(entry.ready, signal);
    } catch (error) {
      release();
      throw error;
    } finally {
      if (onProgress) entry.listeners.delete(onProgress);
    }
    return { path: path.join(this.options.dir, entry.name), isDirectory: entry.isDirectory, release };
  }

  private entryFor(key: DependencyKey): Entry {
    const name = entryName(key);
    const existing = this.entries.get(name);
    if (existing) return existing;
    const entry: Entry = {
      name,
      key: `${key.parent_uuid}:${key.parent_path}`,
      refs: 0,
      lastUsed: this.options.clock.now(),
      sizeBytes: 0,
      isDirectory: false,
      ready: Promise.resolve(),
      done: false,
      listeners: new Set(),
    };
    entry.ready = this.download(key, entry).catch((error: unknown) => {
      // A failed entry is forgotten so that the next run asking for it tries again.
      this.entries.delete(name);
      throw error;
    });
    // The failure is delivered to every acquirer; this handler only keeps it from being "unhandled".
    entry.ready.catch(() => {});
    this.entries.set(name, entry);
    return entry;
  }

  private async download(key: DependencyKey, entry: Entry): Promise<void> {
    const { dir, log, signal } = this.options;
    const what = `download dependency ${key.parent_uuid}${key.parent_path ? `/${key.parent_path}` : ''}`;
    const temp = path.join(dir, `.tmp-${randomBytes(6).toString('hex')}`);
    try {
      const kind = await withRetry(
        async () => {
          await rm(temp, { recursive: true, force: true });
          const announce = (done: number, total: number | null): void => {
            const progress = { done, total: total ?? key.data_size ?? null };
            for (const listener of entry.listeners) listener(progress);
          };
          return downloadInto(this.options.fetchBlob, key.parent_uuid, key.parent_path, temp, signal, announce);
        },
        { log, what, signal },
      );
      await makeReadableByAll(temp);
      entry.sizeBytes = await treeSize(temp);
      entry.isDirectory = kind === 'directory';
      await rename(temp, path.join(dir, entry.name));
      entry.done = true;
      log.debug(`Cached ${entry.key} (${entry.sizeBytes} bytes)`);
    } finally {
      await rm(temp, { recursive: true, force: true });
    }
    await this.evict();
  }

  /** Deletes least recently used, unreferenced entries while the cache is above its cap. */
  private async evict(): Promise<void> {
    let total = [...this.entries.values()].reduce((sum, e) => sum + e.sizeBytes, 0);
    const candidates = [...this.entries.values()]
      .filter((e) => e.done && e.refs === 0)
      .sort((a, b) => a.lastUsed - b.lastUsed);
    for (const entry of candidates) {
      if (total <= this.options.maxBytes) break;
      this.entries.delete(entry.name);
      total -= entry.sizeBytes;
      await rm(path.join(this.options.dir, entry.name), { recursive: true, force: true });
      this.options.log.info(`Evicted dependency ${entry.key} from the cache (${entry.sizeBytes} bytes)`);
    }
  }
}

function raceAbort(promise: Promise<void>, signal?: AbortSignal): Promise<void> {
  if (!signal) return promise;
  return new Promise((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason instanceof Error ? signal.reason : new Error('Aborted'));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    void promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
