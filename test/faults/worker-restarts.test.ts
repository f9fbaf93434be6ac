// Fault scenarios: the worker dies (kill -9) in the middle of a run and comes back on the same
// work dir, under its own id or another, before or after the server counted it offline. Its runs
// must be re-attached and end `ready` with every line they printed (issue 11).
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
} from './fault-support.js';

const SCENARIO_DEADLINE_MS = 120_000;
const WORKER_FLAGS = [...FAST_WORKER_FLAGS, '--slots', '2'];
let cluster: Cluster | undefined;

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
});

describe('a worker killed mid-run', () => {
  it('kill -9, restarted with the same id: the run ends ready with all 8 lines, and a new run is not blocked', async () => {
    const started = await startFaultCluster();
    cluster = started.cluster;
    const { client } = started;
    const worker = cluster.startWorker({ id: 'fault-a', extraArgs: WORKER_FLAGS });
    const [run = ''] = await client.submitRuns([ticks(8)], 'ticks');
    await waitForLine(cluster, run, '2');

    await cluster.killAndWait(worker, 'SIGKILL');
    cluster.startWorker({ id: 'fault-a', extraArgs: WORKER_FLAGS });
    const [after = ''] = await client.submitRuns(['echo after-restart'], 'after');

    const { row, bundles } = await finishScenario(client, 'worker kill -9, same id', [
      { uuid: run, states: ['ready'] },
      { uuid: after, states: ['ready'] },
    ], SCENARIO_DEADLINE_MS);
    expect(row, cluster.describeLogs()).toMatchObject({ lost: 0, stuck: 0 });
    expect(await stdoutOf(cluster, run)).toBe(tickLines(8));
    // Held back by "every slot is taken", it would be stuck: the worker still counted a lost run.
    expect(bundles.get(after)?.state).toBe('ready');
    expect(await stdoutOf(cluster, after)).toBe('after-restart');
    await waitForNoContainers(cluster);
  });

  it('kill -9, down past its timeout: the run goes worker_offline ("last heard"), then back, then ready', async () => {
    const started = await startFaultCluster();
    cluster = started.cluster;
    const { client } = started;
    const worker = cluster.startWorker({ id: 'fault-b', extraArgs: WORKER_FLAGS });
    const [run = ''] = await client.submitRuns([ticks(8)], 'ticks');
    await waitForLine(cluster, run, '2');

    await cluster.killAndWait(worker, 'SIGKILL');
    const offline = await client.waitForState(run, ['worker_offline'], 60_000);
    cluster.startWorker({ id: 'fault-b', extraArgs: WORKER_FLAGS });

    const { row } = await finishScenario(client, 'worker kill -9, down past timeout', [{ uuid: run, states: ['ready'] }], SCENARIO_DEADLINE_MS);
    expect(offline.metadata.run_status).toMatch(/^Worker fault-b stopped checking in; last heard .+ ago/);
    expect(row, cluster.describeLogs()).toMatchObject({ lost: 0, stuck: 0 });
    expect(await stdoutOf(cluster, run)).toBe(tickLines(8));
    await waitForNoContainers(cluster);
  });

  it('kill -9, restarted with another id on the same work dir: the run ends ready', async () => {
    const started = await startFaultCluster();
    cluster = started.cluster;
    const { client } = started;
    const worker = cluster.startWorker({ id: 'fault-c1', extraArgs: WORKER_FLAGS });
    const [run = ''] = await client.submitRuns([ticks(8)], 'ticks');
    await waitForLine(cluster, run, '2');

    await cluster.killAndWait(worker, 'SIGKILL');
    cluster.startWorker({ id: 'fault-c2', workDir: cluster.workDirFor('fault-c1'), extraArgs: WORKER_FLAGS });

    const { row } = await finishScenario(client, 'worker kill -9, another id', [{ uuid: run, states: ['ready'] }], SCENARIO_DEADLINE_MS);
    expect(row, cluster.describeLogs()).toMatchObject({ lost: 0, stuck: 0 });
    expect(await stdoutOf(cluster, run)).toBe(tickLines(8));
    await waitForNoContainers(cluster);
  });
});
