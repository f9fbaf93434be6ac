// Fault scenarios: the server dies (kill -9) while a client uploads a dataset, while a worker
// uploads a run's results, and for two minutes while runs go on. After its restart no bundle may
// stay `uploading`, no run may be lost, and a cut upload must say what to do (issue 11).
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, openSync, readdirSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Cluster } from '../e2e/harness.js';
import {
  FAST_WORKER_FLAGS,
  finishScenario,
  startFaultCluster,
  stdoutOf,
  tickLines,
  ticks,
  waitForLine,
  waitForNoContainers,
  type FaultClient,
} from './fault-support.js';

const MiB = 1024 * 1024;
const BIG_MiB = 200;
/** How long the server stays down while runs go on. */
const SERVER_DOWN_MS = 120_000;
let cluster: Cluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

function writeRandomFile(path: string, mebibytes: number): void {
  const fd = openSync(path, 'w');
  try {
    for (let i = 0; i < mebibytes; i++) writeSync(fd, randomBytes(MiB));
  } finally {
    closeSync(fd);
  }
}

/** Polls fast (the window is short) until `probe` returns something. */
async function pollFast<T>(probe: () => Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await sleep(20);
  }
}

async function uploadingBundle(client: FaultClient, name: string): Promise<string> {
  return pollFast(async () => {
    const bundle = (await client.homeBundles()).find((b) => b.metadata.name === name);
    return bundle?.state === 'uploading' ? bundle.uuid : undefined;
  }, 60_000, `dataset ${name} to be uploading`);
}

/** Waits until some, not all, of an upload of BIG_MiB has reached the server's staging directory. */
async function partlyStaged(cluster: Cluster, uuid: string): Promise<void> {
  const staging = join(cluster.serverHome, 'store', 'staging');
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const entries = existsSync(staging) ? readdirSync(staging, { withFileTypes: true }) : [];
    const stage = entries.find((entry) => entry.name.startsWith(`${uuid}-`));
    const size = stage ? (statSync(join(staging, stage.name, 'file'), { throwIfNoEntry: false })?.size ?? 0) : 0;
    if (size > 0) return;
    await sleep(2);
  }
  throw new Error(`Timed out waiting for part of ${uuid}'s upload to reach the server.`);
}

describe('a server killed', () => {
  it('kill -9 during a 200 MB cl upload: the dataset ends failed with "upload it again", and the next upload works', async () => {
    const started = await startFaultCluster();
    cluster = started.cluster;
    const { client } = started;
    const file = join(cluster.root, 'big.bin');
    writeRandomFile(file, BIG_MiB);

    const upload = cluster.cl(['upload', file, '-n', 'cut-upload'], { timeoutMs: 120_000 });
    const cut = await uploadingBundle(client, 'cut-upload');
    // Killed once part of it has reached the server's staging area: 200 MB take well under a
    // second to upload, so a kill timed by the bundle's state alone may come after the end.
    await partlyStaged(cluster, cut);
    await cluster.killServer('SIGKILL');
    // The client sees its upload cut; had it finished first, this scenario would test nothing.
    expect((await upload).code).not.toBe(0);
    await cluster.restartServer();

    const second = await cluster.clOk(['upload', file, '-n', 'after-restart'], { timeoutMs: 120_000 });
    const { row, bundles } = await finishScenario(client, 'server kill -9 during cl upload', [
      { uuid: cut, states: ['failed'] },
      { uuid: second, states: ['ready'] },
    ], 60_000);
    expect(row, cluster.describeLogs()).toMatchObject({ lost: 0, stuck: 0 });
    expect(bundles.get(cut)?.metadata.failure_message).toBe('Upload interrupted by a server restart; upload it again.');
    expect((await client.homeBundles()).filter((b) => b.state === 'uploading')).toEqual([]);
    expect(bundles.get(second)?.metadata.data_size).toBe(BIG_MiB * MiB);
  });

  it('kill -9 while a worker uploads a 200 MB result: the worker retries and the run ends ready, full size', async () => {
    const started = await startFaultCluster();
    cluster = started.cluster;
    const { client } = started;
    cluster.startWorker({ id: 'fault-e', extraArgs: FAST_WORKER_FLAGS });
    const [run = ''] = await client.submitRuns([`dd if=/dev/urandom of=big bs=${MiB} count=${BIG_MiB} 2>/dev/null; echo wrote`], 'big-result');

    await pollFast(async () => ((await client.bundle(run))?.state === 'finalizing' ? true : undefined), 120_000, `${run} to be finalizing`);
    await cluster.killServer('SIGKILL');
    await cluster.restartServer();

    const { row } = await finishScenario(client, 'server kill -9 during result upload', [{ uuid: run, states: ['ready'] }], 120_000);
    expect(row, cluster.describeLogs()).toMatchObject({ lost: 0, stuck: 0 });
    expect(await stdoutOf(cluster, run)).toBe('wrote');
    expect(await client.fileSize(run, 'big')).toBe(BIG_MiB * MiB);
    await waitForNoContainers(cluster);
  });

  it('down two minutes while three runs go on (one ends meanwhile): all end ready with all their lines', async () => {
    const started = await startFaultCluster();
    cluster = started.cluster;
    const { client } = started;
    // Two workers: each run takes a CPU, and this machine has two.
    cluster.startWorker({ id: 'fault-f1', extraArgs: FAST_WORKER_FLAGS });
    cluster.startWorker({ id: 'fault-f2', extraArgs: FAST_WORKER_FLAGS });
    const lengths = [10, 150, 170];
    const runs = await client.submitRuns(lengths.map(ticks), 'ticks');
    for (const run of runs) await waitForLine(cluster, run, '1');

    await cluster.killServer('SIGKILL');
    await sleep(SERVER_DOWN_MS); // the fault itself: a server that stays away, not a wait for a state
    await cluster.restartServer();

    const { row } = await finishScenario(client, 'server down 2 minutes', runs.map((uuid) => ({ uuid, states: ['ready'] })), 180_000);
    expect(row, cluster.describeLogs()).toMatchObject({ lost: 0, stuck: 0 });
    for (const [i, run] of runs.entries()) expect(await stdoutOf(cluster, run)).toBe(tickLines(lengths[i] ?? 0));
    await waitForNoContainers(cluster);
  });
});
