// The dependency cache: each (parent uuid, parent path) is downloaded once into the work dir and
// shared by every run that needs it, with one download per key at a time, a temp dir renamed into
// place (so a present entry is always complete), and LRU eviction of unused entries above a size
// cap. A download never takes the cache past its cap or the disk below the worker's reserve: it is
// refused up front when its size is known, and abandoned part-way when it runs past the room left.
// It knows nothing of runs or containers: it hands out host paths and reference counts, and tells
// every run that waits for a download how far it got.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, rename, rm, statfs } from 'node:fs/promises';
import path from 'node:path';
import type { Clock } from '../../common/clock.js';
import { makeReadableByAll, treeSize } from '../fs/tree.js';
import type { Logger } from '../../common/log.js';
import { withRetry } from '../retry.js';
import { DependencyTooLargeError, noRoomMessage, planRoom, type RoomCandidate } from './cache-room.js';
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
  /** On disk once complete; while downloading, the announced size or the bytes received, whichever is more. */
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
  /** Free disk a download never eats into (`--disk-reserve`; default 0). */
  reserveBytes?: number;
  /** Free bytes on the cache's disk (default: statfs of `dir`); tests fake it. */
  freeDiskBytes?: () => Promise<number>;
  /** A running download reads the free disk again after each this many bytes (default 32 MiB). */
  diskCheckEveryBytes?: number;
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

const DISK_CHECK_BYTES = 32 * 1024 ** 2;

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
    // The cap may be lower than when these were downloaded (a new flag, a default on a new disk).
    await this.evict();
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
    const target = `${key.parent_uuid}${key.parent_path ? `/${key.parent_path}` : ''}`;
    const temp = path.join(dir, `.tmp-${randomBytes(6).toString('hex')}`);
    try {
      if (key.data_size !== undefined) {
        const freeBytes = await this.freeDisk();
        await this.makeRoom(entry, key, null, { growBytes: key.data_size, writeBytes: key.data_size, freeBytes, claimBytes: key.data_size });
      }
      const kind = await withRetry(
        async () => {
          await rm(temp, { recursive: true, force: true });
          entry.sizeBytes = key.data_size ?? 0;
          const announce = (done: number, total: number | null): void => {
            const progress = { done, total: total ?? key.data_size ?? null };
            for (const listener of entry.listeners) listener(progress);
          };
          const admit = this.roomGuard(entry, key);
          return downloadInto(this.options.fetchBlob, key.parent_uuid, key.parent_path, temp, { signal, onBytes: announce, admit });
        },
        { log, what: `download dependency ${target}`, signal },
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

  /**
   * Checks each chunk of a download against the room left: the cap on every chunk (without I/O
   * unless entries must be evicted), the disk reserve every `diskCheckEveryBytes`.
   */
  private roomGuard(entry: Entry, key: DependencyKey): (received: number) => Promise<void> | void {
    const every = this.options.diskCheckEveryBytes ?? DISK_CHECK_BYTES;
    let nextDiskCheck = every;
    return (received) => {
      const isDiskCheckDue = received >= nextDiskCheck;
      const growBytes = received - entry.sizeBytes;
      if (!isDiskCheckDue && growBytes <= 0) return;
      if (!isDiskCheckDue && this.usedBytes() + growBytes <= this.options.maxBytes) {
        entry.sizeBytes = received;
        return;
      }
      if (isDiskCheckDue) nextDiskCheck = received + every;
      return (async () => {
        const freeBytes = isDiskCheckDue ? await this.freeDisk() : Infinity;
        // Still to be written: the rest of an announced size; an unknown one is checked as it comes.
        const writeBytes = Math.max(0, (key.data_size ?? received) - received);
        const growBytes = Math.max(0, received - entry.sizeBytes);
        await this.makeRoom(entry, key, received, { growBytes, writeBytes, freeBytes, claimBytes: received });
      })();
    };
  }

  /**
   * Evicts unused entries so that the growth fits and claims it for `entry` (before any await, so
   * that a concurrent download counts it), or throws the one-line reason it cannot fit.
   */
  private async makeRoom(
    entry: Entry,
    key: DependencyKey,
    receivedBytes: number | null,
    need: { growBytes: number; writeBytes: number; freeBytes: number; claimBytes: number },
  ): Promise<void> {
    const { maxBytes, reserveBytes = 0 } = this.options;
    const { growBytes, writeBytes, freeBytes } = need;
    const plan = planRoom(this.candidates(), { growBytes, writeBytes, freeBytes, usedBytes: this.usedBytes(), capBytes: maxBytes, reserveBytes });
    if (!plan.fits) {
      const heldBytes = [...this.entries.values()]
        .filter((e) => e !== entry && !(e.done && e.refs === 0))
        .reduce((sum, e) => sum + e.sizeBytes, 0);
      const what = `Dependency ${key.parent_uuid}${key.parent_path ? `/${key.parent_path}` : ''}`;
      const sizeBytes = key.data_size ?? null;
      const facts = { what, sizeBytes, receivedBytes, limit: plan.limit, capBytes: maxBytes, heldBytes, freeBytes: need.freeBytes, reserveBytes };
      throw new DependencyTooLargeError(noRoomMessage(facts));
    }
    entry.sizeBytes = Math.max(entry.sizeBytes, need.claimBytes);
    await this.remove(plan.evict);
  }

  /** Deletes least recently used, unreferenced entries while the cache is above its cap. */
  private async evict(): Promise<void> {
    let total = this.usedBytes();
    const victims: string[] = [];
    for (const entry of this.candidates().sort((a, b) => a.lastUsed - b.lastUsed)) {
      if (total <= this.options.maxBytes) break;
      if (!entry.isEvictable) continue;
      victims.push(entry.name);
      total -= entry.sizeBytes;
    }
    await this.remove(victims);
  }

  /** Forgets the entries at once (so no run acquires one meanwhile), then deletes their files. */
  private async remove(names: readonly string[]): Promise<void> {
    const victims = names.flatMap((name) => this.entries.get(name) ?? []);
    for (const entry of victims) this.entries.delete(entry.name);
    for (const entry of victims) {
      await rm(path.join(this.options.dir, entry.name), { recursive: true, force: true });
      this.options.log.info(`Evicted dependency ${entry.key} from the cache (${entry.sizeBytes} bytes)`);
    }
  }

  private usedBytes(): number {
    return [...this.entries.values()].reduce((sum, e) => sum + e.sizeBytes, 0);
  }

  private candidates(): RoomCandidate[] {
    return [...this.entries.values()].map((e) => ({
      name: e.name,
      sizeBytes: e.sizeBytes,
      lastUsed: e.lastUsed,
      isEvictable: e.done && e.refs === 0,
    }));
  }

  private async freeDisk(): Promise<number> {
    if (this.options.freeDiskBytes) return this.options.freeDiskBytes();
    const disk = await statfs(this.options.dir);
    return disk.bavail * disk.bsize;
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
