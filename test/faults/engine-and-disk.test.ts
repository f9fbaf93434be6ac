// Fault scenarios under the worker: the Docker engine restarts while a run runs, and the work dir's
// disk fills up. The run may fail, but must end with a message saying why; the worker must live
// on and run the next one, and no container may be left behind (issue 11).
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Cluster } from '../e2e/harness.js';
import {
  FAST_WORKER_FLAGS,
  finishScenario,
  mountTmpfs,
  restartDockerd,
  startFaultCluster,
  stdoutOf,
  ticks,
  waitForLine,
  waitForNoContainers,
} from './fault-support.js';

const TMPFS_MiB = 64;
let cluster: Cluster | undefined;
let unmount: (() => Promise<void>) | undefined;

afterEach(async () => {
  // Containers bind-mount the work dir: they must be gone before it can be unmounted.
  await cluster?.stop();
  cluster = undefined;
  await unmount?.();
  unmount = undefined;
});

describe('under the worker', () => {
  it('the Docker engine restarts mid-run: the run ends with a message, and the worker runs the next one', async () => {
    const started = await startFaultCluster();
    cluster = started.cluster;
    const { client } = started;
    cluster.startWorker({ id: 'fault-g', extraArgs: FAST_WORKER_FLAGS });
    const [run = ''] = await client.submitRuns([ticks(60)], 'ticks');
    await waitForLine(cluster, run, '2');

    await restartDockerd();
    const [next = ''] = await client.submitRuns(['echo after-engine-restart'], 'after');

    const { row, bundles } = await finishScenario(client, 'dockerd restarted mid-run', [
      // Without live-restore (ours has none), an engine that stops takes its containers down.
      { uuid: run, states: ['failed'] },
      { uuid: next, states: ['ready'] },
    ], 180_000);
    expect(row, cluster.describeLogs()).toMatchObject({ lost: 0, stuck: 0 });
    const ended = bundles.get(run);
    expect(ended?.metadata.failure_message).toMatch(/^The Docker engine stopped while the run ran/);
    expect(await stdoutOf(cluster, next)).toBe('after-engine-restart');
    await waitForNoContainers(cluster);
  });

  it(`the work dir's disk fills up (${TMPFS_MiB} MiB tmpfs): the run fails naming the disk, the next run ends ready`, async () => {
    const started = await startFaultCluster();
    cluster = started.cluster;
    const { client } = started;
    const workDir = join(cluster.root, 'small-disk');
    unmount = await mountTmpfs(workDir, TMPFS_MiB);
    // The default reserve (1g) is larger than this whole disk: keep just a little free.
    cluster.startWorker({ id: 'fault-h', workDir, extraArgs: [...FAST_WORKER_FLAGS, '--disk-reserve', '4m', '--max-work-dir-size', '16m'] });
    const [filler = ''] = await client.submitRuns(['dd if=/dev/zero of=big bs=1048576 count=200; echo wrote'], 'filler');
    const filled = await finishScenario(client, 'work dir disk full', [{ uuid: filler, states: ['failed'] }], 120_000);
    expect(filled.row, cluster.describeLogs()).toMatchObject({ lost: 0, stuck: 0 });
    expect(filled.bundles.get(filler)?.metadata.failure_message).toMatch(/^The worker's disk is full/);

    const [small = ''] = await client.submitRuns(['echo small'], 'small');
    const after = await finishScenario(client, 'work dir disk full, next run', [{ uuid: small, states: ['ready'] }], 120_000);
    expect(after.row, cluster.describeLogs()).toMatchObject({ lost: 0, stuck: 0 });
    expect(await stdoutOf(cluster, small)).toBe('small');
    await waitForNoContainers(cluster);
  });
});
