// End-to-end: --request-queue routes a run to a worker started with the matching --tag; an
// untagged worker leaves it staged.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Cluster, DEFAULT_IMAGE, waitFor } from './harness.js';

let cluster: Cluster;

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE]);
  await cluster.clOk(['work', `${cluster.url}::`]);
});

afterAll(async () => {
  await cluster?.stop();
});

it('runs a queued bundle only on the worker with that tag', async () => {
  cluster.startWorker({ id: 'untagged' });
  const queued = await cluster.clOk(['run', '--request-queue', 'tag=t', 'date']);
  const plain = await cluster.clOk(['run', 'echo plain']);
  expect((await cluster.cl(['wait', plain], { timeoutMs: 120_000 })).code, cluster.describeLogs()).toBe(0);
  // The scheduler has looked at the queued run with the untagged worker there, and said why not.
  await waitFor(
    async () => ((await cluster.clOk(['info', '-f', 'staged_status', queued])).includes('no worker serves queue t') ? true : undefined),
    60_000,
    'the queued run to be refused by the untagged worker',
  );
  expect(await cluster.clOk(['info', '-f', 'state,request_queue', queued])).toBe('staged\tt');

  // One slot (workers default to one per CPU), so the burst below runs one bundle after another.
  cluster.startWorker({ id: 'tagged', tag: 't', extraArgs: ['--slots', '1'] });
  expect((await cluster.cl(['wait', queued], { timeoutMs: 120_000 })).code, cluster.describeLogs()).toBe(0);
  expect(await cluster.clOk(['cat', `${queued}/stdout`])).toMatch(/\d\d:\d\d:\d\d/);
}, 200_000);

it('runs a burst of bundles one after another on a one-slot worker, dropping none', async () => {
  const uuids: string[] = [];
  for (let i = 0; i < 4; i += 1) uuids.push(await cluster.clOk(['run', '--request-queue', 'tag=t', `echo burst-${i}`]));
  for (const [i, uuid] of uuids.entries()) {
    expect((await cluster.cl(['wait', uuid], { timeoutMs: 120_000 })).code, cluster.describeLogs()).toBe(0);
    expect(await cluster.clOk(['cat', `${uuid}/stdout`])).toBe(`burst-${i}`);
  }
}, 200_000);
