// Fault scenario at volume: a burst of 200 short runs, with the worker killed (kill -9) and
// restarted in the middle of it. Every run must end `ready`: none lost, none stuck (issue 11).
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor, type Cluster } from '../e2e/harness.js';
import { FAST_WORKER_FLAGS, finishScenario, startFaultCluster, waitForNoContainers } from './fault-support.js';

const BURST = 200;
const WORKER_ID = 'fault-burst';
let cluster: Cluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe('a burst of runs', () => {
  it(`${BURST} runs, the worker kill -9'd and restarted in the middle: all end ready`, async () => {
    const started = await startFaultCluster();
    cluster = started.cluster;
    const { client } = started;
    // Each run takes one CPU; on a two-core machine that is two at a time.
    const worker = cluster.startWorker({ id: WORKER_ID, extraArgs: FAST_WORKER_FLAGS });
    const runs = await client.submitRuns(Array.from({ length: BURST }, (_, i) => `echo ${i + 1}`), 'burst');

    const middle = runs.slice(BURST / 4);
    await waitFor(async () => {
      const bundle = await client.bundle(middle[0] ?? '');
      return bundle !== null && bundle.state !== 'staged' ? true : undefined;
    }, 180_000, 'the burst to be a quarter through');
    await cluster.killAndWait(worker, 'SIGKILL');
    cluster.startWorker({ id: WORKER_ID, extraArgs: FAST_WORKER_FLAGS });

    const { row } = await finishScenario(client, `burst of ${BURST}, worker kill -9`, runs.map((uuid) => ({ uuid, states: ['ready'] })), 240_000);
    expect(row, cluster.describeLogs()).toMatchObject({ lost: 0, stuck: 0 });
    await waitForNoContainers(cluster);
  });
});
