import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statfsSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, TARGET_TYPE_HEADER } from '../../protocol/index.js';
import { HttpResponse } from '../../common/http-response.js';
import { silentLogger } from '../../common/log.js';
import { DependencyCache, entryName, keyOfEntryName, type DependencyCacheOptions } from './dependency-cache.js';
import { defaultCacheCap, resolveCacheCap } from './default-cache-cap.js';
import { treeSize } from '../fs/tree.js';

const U1 = '0x' + '1'.repeat(32);
const U2 = '0x' + '2'.repeat(32);
const U3 = '0x' + '3'.repeat(32);
const U4 = '0x' + '4'.repeat(32);
const KIB = 1024;
const MIB = 1024 ** 2;
let dir = '';
let calls = 0;
let now = 0;

function fileResponse(text: string): HttpResponse {
  return HttpResponse.fromText(200, text, { [TARGET_TYPE_HEADER]: 'file' });
}

function cache(maxBytes = 1 << 20, fail = false): DependencyCache {
  return new DependencyCache({
    dir,
    maxBytes,
    log: silentLogger,
    clock: { now: () => now },
    signal: new AbortController().signal,
    fetchBlob: async (uuid, subPath) => {
      calls += 1;
      await new Promise((r) => setTimeout(r, 30));
      if (fail) throw new ApiError('not_found', `no ${uuid}/${subPath}`);
      return fileResponse(`${uuid}/${subPath}:${'x'.repeat(100)}`);
    },
  });
}

/** A fake server that streams `bytes` of a file in 64 KiB chunks; `failAfter` breaks the stream there. */
function fakeFileBlob(bytes: number | Record<string, number>, options: { failAfter?: number; gate?: Promise<void> } = {}): DependencyCacheOptions['fetchBlob'] {
  return async (uuid) => {
    calls += 1;
    const size = typeof bytes === 'number' ? bytes : (bytes[uuid] ?? 0);
    async function* chunks(): AsyncGenerator<Buffer> {
      for (let sent = 0; sent < size; sent += 64 * KIB) {
        if (options.failAfter !== undefined && sent >= options.failAfter) {
          if (options.gate) await options.gate;
          else throw new Error('connection lost mid-body');
        }
        yield Buffer.alloc(Math.min(64 * KIB, size - sent), 7);
      }
    }
    return new HttpResponse(200, 'OK', { [TARGET_TYPE_HEADER]: 'file' }, Readable.from(chunks()));
  };
}

/** A fake disk of `sizeBytes` whose free space is what the cache dir's real files leave of it. */
function fakeDisk(sizeBytes: number): () => Promise<number> {
  return async () => sizeBytes - (await treeSize(dir));
}

function sizedCache(options: Partial<DependencyCacheOptions>): DependencyCache {
  return new DependencyCache({
    dir,
    maxBytes: 100 * MIB,
    log: silentLogger,
    clock: { now: () => now },
    signal: new AbortController().signal,
    fetchBlob: fakeFileBlob(MIB),
    ...options,
  });
}

/** Entries and leftovers in the cache dir, as a run could see them. */
function filesInCache(): string[] {
  return readdirSync(dir).sort();
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cl-deps-test-'));
  calls = 0;
  now = 0;
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('dependency cache', () => {
  it('names entries reversibly', () => {
    const key = { parent_uuid: U1, parent_path: 'a/b c.txt' };
    expect(keyOfEntryName(entryName(key))).toEqual(key);
    expect(keyOfEntryName('junk')).toBeNull();
  });

  it('downloads a key once for concurrent runs, readable by all, and reuses it after a restart', async () => {
    const c = cache();
    await c.init();
    const [a, b] = await Promise.all([c.acquire({ parent_uuid: U1, parent_path: 'f' }), c.acquire({ parent_uuid: U1, parent_path: 'f' })]);
    expect(calls).toBe(1);
    expect(a.path).toBe(b.path);
    expect(readFileSync(a.path, 'utf8')).toMatch(/^0x1+\/f:x+$/);
    expect(statSync(a.path).mode & 0o444).toBe(0o444);
    expect(c.keys()).toEqual([`${U1}:f`]);
    a.release();
    b.release();
    const again = cache();
    await again.init();
    await again.acquire({ parent_uuid: U1, parent_path: 'f' });
    expect(calls).toBe(1);
  });

  it('forgets a failed download so a later run tries again', async () => {
    const c = cache(1 << 20, true);
    await c.init();
    await expect(c.acquire({ parent_uuid: U1, parent_path: '' })).rejects.toThrow(/no 0x1+\//);
    expect(c.keys()).toEqual([]);
    await expect(c.acquire({ parent_uuid: U1, parent_path: '' })).rejects.toThrow();
    expect(calls).toBe(2);
  });

  it('evicts down to a cap lowered across a restart', async () => {
    const before = cache();
    await before.init();
    (await before.acquire({ parent_uuid: U1, parent_path: '' })).release();
    (await before.acquire({ parent_uuid: U2, parent_path: '' })).release();
    // Two entries of 136 bytes each; the restarted worker may keep 150.
    const after = cache(150);
    await after.init();
    expect(after.keys()).toHaveLength(1);
    expect(readdirSync(dir)).toHaveLength(1);
  });
});

describe('dependency cache room (fake fetchBlob)', () => {
  const key = (uuid: string, size?: number) => ({ parent_uuid: uuid, parent_path: '', ...(size === undefined ? {} : { data_size: size }) });

  it('evicts the least recently used unused entries to fit an announced size (fake fetchBlob)', async () => {
    const c = sizedCache({ maxBytes: 3 * MIB });
    await c.init();
    for (const [i, uuid] of [U1, U2, U3].entries()) {
      now = i === 0 ? 10 : i === 1 ? 5 : 20;
      (await c.acquire(key(uuid, MIB))).release();
    }
    now = 30;
    const fourth = await c.acquire(key(U4, MIB));
    // U2 was used longest ago (5), then U1 (10): one eviction makes room.
    expect(c.keys().sort()).toEqual([`${U1}:`, `${U3}:`, `${U4}:`]);
    expect(filesInCache()).toEqual([U1, U3, U4].map((u) => entryName(key(u))).sort());
    fourth.release();
  });

  it('never evicts an entry in use, and refuses without downloading or evicting when only those would make room (fake fetchBlob)', async () => {
    const c = sizedCache({ maxBytes: 3 * MIB, fetchBlob: fakeFileBlob({ [U1]: 2 * MIB, [U2]: MIB, [U3]: 2 * MIB }) });
    await c.init();
    now = 1;
    const held = await c.acquire(key(U1, 2 * MIB));
    now = 2;
    (await c.acquire(key(U2, MIB))).release();
    const before = calls;
    await expect(c.acquire(key(U3, 2 * MIB))).rejects.toThrow(
      `Dependency ${U3} (2m) was not downloaded: the dependency cache may hold 3m (--max-work-dir-size) and runs hold 2m of it; ` +
        'raise --max-work-dir-size or run this on another worker.',
    );
    expect(calls).toBe(before);
    expect(c.keys().sort()).toEqual([`${U1}:`, `${U2}:`]);
    now = 3;
    held.release();
    // Once released, the same request fits, evicting U2 (used longest ago), then U1.
    now = 4;
    (await c.acquire(key(U3, 2 * MIB))).release();
    expect(c.keys()).toEqual([`${U3}:`]);
  });

  it('counts a download in flight: of two started together that only fit one at a time, one is refused (fake fetchBlob)', async () => {
    const c = sizedCache({ maxBytes: 3 * MIB, fetchBlob: fakeFileBlob(2 * MIB) });
    await c.init();
    const results = await Promise.allSettled([c.acquire(key(U1, 2 * MIB)), c.acquire(key(U2, 2 * MIB))]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect(c.keys()).toHaveLength(1);
  });

  it('keeps the disk reserve: evicts to keep it, refuses with the sizes and flags when it cannot (fake fetchBlob, fake disk)', async () => {
    const c = sizedCache({ reserveBytes: MIB, freeDiskBytes: fakeDisk(3.5 * MIB), fetchBlob: fakeFileBlob(MIB) });
    await c.init();
    now = 1;
    (await c.acquire(key(U1, MIB))).release();
    now = 2;
    const held = await c.acquire(key(U2, MIB));
    // 1.5m free, 1m reserve: U1 (unused) goes so that U3 fits.
    now = 3;
    const third = await c.acquire(key(U3, MIB));
    expect(c.keys().sort()).toEqual([`${U2}:`, `${U3}:`]);
    const before = calls;
    await expect(c.acquire(key(U4, MIB))).rejects.toThrow(
      `Dependency ${U4} (1m) was not downloaded: the work dir's disk has 1.5m free and the worker keeps 1m of it (--disk-reserve); ` +
        'free disk space, lower --disk-reserve or run this on another worker.',
    );
    expect(calls).toBe(before);
    held.release();
    third.release();
  });

  it('abandons and removes a download of unknown size that runs past the cap (fake fetchBlob)', async () => {
    const c = sizedCache({ maxBytes: MIB, fetchBlob: fakeFileBlob(3 * MIB) });
    await c.init();
    await expect(c.acquire(key(U1))).rejects.toThrow(
      new RegExp(`^Dependency ${U1} was abandoned after 1\\.1m of an unknown size: the dependency cache may hold 1m \\(--max-work-dir-size\\)`),
    );
    expect(c.keys()).toEqual([]);
    expect(filesInCache()).toEqual([]);
    expect(calls).toBe(1);
  });

  it('abandons a download of unknown size that would eat into the disk reserve (fake fetchBlob, fake disk)', async () => {
    const c = sizedCache({ reserveBytes: MIB, freeDiskBytes: fakeDisk(3 * MIB), diskCheckEveryBytes: 256 * KIB, fetchBlob: fakeFileBlob(8 * MIB) });
    await c.init();
    await expect(c.acquire(key(U1))).rejects.toThrow(/was abandoned after .* of an unknown size: the work dir's disk has .* --disk-reserve/);
    expect(filesInCache()).toEqual([]);
  });

  it('leaves no entry after a stream error part-way, and downloads again on the next acquire (fake fetchBlob)', async () => {
    const c = sizedCache({ fetchBlob: fakeFileBlob(MIB, { failAfter: 512 * KIB }) });
    await c.init();
    await expect(c.acquire(key(U1, MIB))).rejects.toThrow('connection lost mid-body');
    expect(c.keys()).toEqual([]);
    expect(filesInCache()).toEqual([]);
    await expect(c.acquire(key(U1, MIB))).rejects.toThrow('connection lost mid-body');
    expect(calls).toBe(2);
  });

  it('leaves no entry when the worker stops mid-download; after a crash, init() drops the half-written temp dir (fake fetchBlob)', async () => {
    const stop = new AbortController();
    let arrived = (): void => {};
    const reachedGate = new Promise<void>((resolve) => (arrived = resolve));
    const gate = reachedGate.then(() => new Promise<void>(() => {}));
    const c = sizedCache({ signal: stop.signal, fetchBlob: fakeFileBlob(MIB, { failAfter: 512 * KIB, gate }) });
    await c.init();
    const download = c.acquire(key(U1, MIB), undefined, (p) => {
      if (p.done >= 512 * KIB) arrived();
    });
    await reachedGate;
    stop.abort();
    await expect(download).rejects.toThrow();
    expect(c.keys()).toEqual([]);
    expect(filesInCache()).toEqual([]);

    // A crash leaves its temp dir behind; the next process drops it and downloads afresh.
    mkdirSync(path.join(dir, '.tmp-0123456789ab'));
    writeFileSync(path.join(dir, '.tmp-0123456789ab', 'part'), 'half');
    const restarted = sizedCache({});
    await restarted.init();
    expect(filesInCache()).toEqual([]);
    const before = calls;
    (await restarted.acquire(key(U1, MIB))).release();
    expect(calls).toBe(before + 1);
    expect(filesInCache()).toEqual([entryName(key(U1))]);
  });

  it('defaults the cap to half of the work dir file system, unless one is given', async () => {
    expect(defaultCacheCap(100 * MIB)).toBe(50 * MIB);
    const disk = statfsSync(dir);
    expect(await resolveCacheCap(null, dir)).toMatchObject({ bytes: Math.floor((disk.blocks * disk.bsize) / 2) });
    expect(await resolveCacheCap(123, dir)).toEqual({ bytes: 123, origin: '--max-work-dir-size' });
  });
});
