import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ApiError, TARGET_TYPE_HEADER } from '../../protocol/index.js';
import { HttpResponse } from '../../common/http-response.js';
import { silentLogger } from '../../common/log.js';
import { DependencyCache, entryName, keyOfEntryName } from './dependency-cache.js';
import { waitUntil } from '../../../test/support/wait-for.js';

const U1 = '0x' + '1'.repeat(32);
const U2 = '0x' + '2'.repeat(32);
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

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cl-deps-test-'));
  calls = 0;
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

  it('evicts least recently used unreferenced entries above the cap, never ones in use', async () => {
    const c = cache(150);
    await c.init();
    now = 1;
    const first = await c.acquire({ parent_uuid: U1, parent_path: '' });
    now = 2;
    const second = await c.acquire({ parent_uuid: U2, parent_path: '' });
    expect(c.keys().sort()).toEqual([`${U1}:`, `${U2}:`]);
    now = 3;
    first.release();
    // Eviction runs in the background after a release.
    await waitUntil(() => c.keys().length === 1, 'the eviction after the release');
    expect(c.keys()).toEqual([`${U2}:`]);
    second.release();
  });
});
