// The image cache against the real dockerd and a real registry on loopback: first pull, a cached
// second ensure, `--pull-policy always` after a re-tag, registry errors in the registry's words,
// and eviction under a small cap (LRU, never a held, used or hand-pulled image).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/log.js';
import type { ContainerRuntime } from '../docker/container-runtime.js';
import { DockerRuntime } from '../docker/docker-runtime.js';
import { DOCKER_SOCKET, ensureDocker } from '../docker/docker-test-support.js';
import {
  docker,
  hasLocalImage,
  makeRandomImage,
  pushImage,
  removeLocalImages,
  startLocalRegistry,
  type LocalRegistry,
} from '../../../test/support/local-registry.js';
import { ImageCache, type ImageCacheOptions } from './image-cache.js';

let registry: LocalRegistry;
let dir = '';
/** Every local name the tests made, removed at the end. */
const made: string[] = [];

/** The real DockerRuntime, counting the pulls it is asked for (a spy: every call goes to dockerd). */
function countingRuntime(): { runtime: ContainerRuntime; pulls: string[] } {
  const real = new DockerRuntime(DOCKER_SOCKET);
  const pulls: string[] = [];
  const runtime = Object.create(real) as ContainerRuntime;
  runtime.pullImage = (ref, signal, onProgress) => {
    pulls.push(ref);
    return real.pullImage(ref, signal, onProgress);
  };
  return { runtime, pulls };
}

function cacheWith(runtime: ContainerRuntime, options: Partial<ImageCacheOptions> = {}): ImageCache {
  return new ImageCache({ runtime, recordFile: path.join(dir, `pulled-${Math.random().toString(16).slice(2)}.json`), log: silentLogger, ...options });
}

/** Pushes a fresh random image as `name` on the registry and removes the local copy; returns its digest. */
function publish(name: string, bytes = 4096): string {
  const ref = `${registry.host}/${name}`;
  made.push(ref);
  makeRandomImage(ref, bytes);
  const digest = pushImage(ref);
  removeLocalImages(ref);
  return digest;
}

beforeAll(async () => {
  await ensureDocker();
  registry = await startLocalRegistry();
  dir = mkdtempSync(path.join(os.tmpdir(), 'cl-image-cache-'));
});

afterAll(async () => {
  removeLocalImages(...made);
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('image cache on a real registry', () => {
  it('pulls an absent image once, records its digest, and finds it locally the second time', async () => {
    const digest = publish('first:1');
    const ref = `${registry.host}/first:1`;
    const { runtime, pulls } = countingRuntime();
    const recordFile = path.join(dir, 'first.json');
    const cache = cacheWith(runtime, { recordFile });
    const first = await cache.ensure(ref);
    expect(first.digest).toBe(`${registry.host}/first@${digest}`);
    expect(hasLocalImage(ref)).toBe(true);
    first.release();
    const second = await cache.ensure(ref);
    second.release();
    expect(second.id).toBe(first.id);
    expect(pulls).toEqual([ref]);
    await cache.settle();
    const record = JSON.parse(readFileSync(recordFile, 'utf8')) as { images: Array<{ id: string; refs: string[] }> };
    expect(record.images.map((i) => [i.id, i.refs])).toEqual([[first.id, [ref]]]);
  });

  it('pulls again before every run under --pull-policy always and uses the image the tag now names', async () => {
    const ref = `${registry.host}/moving:1`;
    const oldDigest = publish('moving:1');
    const { runtime, pulls } = countingRuntime();
    const always = cacheWith(runtime, { pullPolicy: 'always' });
    const before = await always.ensure(ref);
    before.release();
    made.push(before.id); // left without a name once the tag moves on
    expect(before.digest).toBe(`${registry.host}/moving@${oldDigest}`);

    const newDigest = publish('moving:1');
    expect(newDigest).not.toBe(oldDigest);
    // Pushing moved the local tag too: put it back on the old image, as a worker's engine has it.
    docker('tag', before.id, ref);
    // `missing` is content with the copy it has; `always` fetches what the tag names now.
    const missing = await cacheWith(runtime).ensure(ref);
    expect(missing.id).toBe(before.id);
    const [a, b] = await Promise.all([always.ensure(ref), always.ensure(ref)]);
    expect(a.id).not.toBe(before.id);
    expect(b.id).toBe(a.id);
    expect(a.digest).toBe(`${registry.host}/moving@${newDigest}`);
    // One pull for the first ensure, one shared by the two concurrent ones.
    expect(pulls).toEqual([ref, ref]);
  });

  it("fails with the registry's own words when an image is missing, and never falls back to a stale copy under always", async () => {
    const cache = cacheWith(new DockerRuntime(DOCKER_SOCKET));
    const missing = `${registry.host}/nothing-here:1`;
    await expect(cache.ensure(missing)).rejects.toThrow(
      new RegExp(`^Docker image '${missing}' not found locally and could not be pulled: .*manifest unknown`),
    );

    // The registry has the manifest but not the layers: the engine fails inside the pull stream.
    const broken = `${registry.host}/broken:1`;
    registry.dropBlobsExcept(publish('broken:1'));
    await expect(cache.ensure(broken)).rejects.toThrow(/could not be pulled: .*unknown blob/);

    const local = `${registry.host}/only-local:1`;
    made.push(local);
    makeRandomImage(local, 1024);
    const always = cacheWith(new DockerRuntime(DOCKER_SOCKET), { pullPolicy: 'always' });
    await expect(always.ensure(local)).rejects.toThrow(/the local copy is not used\): .*manifest unknown/);
  });

  it('evicts the least recently used pulled image over the cap, never a held, used or hand-pulled one', async () => {
    const size = 200_000;
    for (const name of ['old:1', 'held:1', 'newer:1', 'hand:1']) publish(name, size);
    const [old, held, newer, hand] = ['old:1', 'held:1', 'newer:1', 'hand:1'].map((n) => `${registry.host}/${n}`) as [string, string, string, string];
    docker('pull', hand); // pulled by the operator: never the worker's to remove
    const cache = cacheWith(new DockerRuntime(DOCKER_SOCKET), { maxBytes: 300_000 });

    const a = await cache.ensure(old);
    a.release();
    const b = await cache.ensure(held);
    await cache.settle();
    // Two pulled images (about 400 kB) over a 300 kB cap: the one no run holds goes.
    expect(hasLocalImage(old)).toBe(false);
    expect(hasLocalImage(held)).toBe(true);

    const h = await cache.ensure(hand);
    h.release();
    const c = await cache.ensure(newer);
    await cache.settle();
    expect([hasLocalImage(held), hasLocalImage(newer)]).toEqual([true, true]);

    // A container (never started) uses `held`: the engine refuses its removal, so it stays.
    const container = docker('create', b.id, '/nothing');
    try {
      b.release();
      await cache.settle();
      expect(hasLocalImage(held)).toBe(true);
      c.release();
      await cache.settle();
      expect(hasLocalImage(newer)).toBe(false);
    } finally {
      docker('rm', container);
    }
    expect(hasLocalImage(hand)).toBe(true);
  });
});
