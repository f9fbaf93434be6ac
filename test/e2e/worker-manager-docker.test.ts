// End-to-end: `cl-worker-manager docker` against a real cl-server and dockerd. A staged run that no
// worker can take makes the manager start a worker container (this host's Node and cl-worker in
// the default image); the run goes to ready; the worker exits when idle and the manager removes
// its container, counting it gone.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { MANAGER_LABEL } from '../../src/managers/docker/docker-backend.js';
import { Cluster, DEFAULT_IMAGE, waitFor } from './harness.js';

const run = promisify(execFile);
/** Unique per test run, so that only this test's containers are looked at and removed. */
const MANAGER_NAME = `e2e-mgr-${process.pid}`;

let cluster: Cluster;

async function managedContainers(): Promise<string[]> {
  const { stdout } = await run('docker', ['ps', '-aq', '--filter', `label=${MANAGER_LABEL}=${MANAGER_NAME}`]);
  return stdout.split('\n').filter(Boolean);
}

function managerLog(): string {
  try {
    return readFileSync(join(cluster.root, 'worker-manager-docker.log'), 'utf8');
  } catch {
    return '';
  }
}

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE]);
  await cluster.clOk(['work', `${cluster.url}::`]);
});

afterAll(async () => {
  await cluster?.stop();
  const left = await managedContainers();
  if (left.length > 0) await run('docker', ['rm', '-f', ...left]);
});

it('starts a worker container for a staged run, which runs it and then exits when idle', async () => {
  const uuid = await cluster.clOk(['run', 'echo managed']);
  await waitFor(
    async () => ((await cluster.clOk(['info', '-f', 'staged_status', uuid])).includes('No worker') ? true : undefined),
    60_000,
    'the scheduler to say no worker can take the run',
  );
  cluster.startWorkerManager('docker', [
    '--name', MANAGER_NAME,
    '--sleep-time', '1',
    '--worker-idle-seconds', '2',
    '--max-workers', '1',
    '--image', DEFAULT_IMAGE,
    '--work-dir', join(cluster.root, 'manager-scratch'),
  ]);
  await waitFor(async () => ((await managedContainers()).length > 0 ? true : undefined), 60_000, 'the manager to start a worker container');

  expect((await cluster.cl(['wait', uuid], { timeoutMs: 120_000 })).code, cluster.describeLogs()).toBe(0);
  expect(await cluster.clOk(['info', '-f', 'state', uuid])).toBe('ready');
  expect(await cluster.clOk(['cat', `${uuid}/stdout`])).toBe('managed');

  await waitFor(
    async () => ((await managedContainers()).length === 0 && managerLog().includes('worker ended') ? true : undefined),
    90_000,
    'the idle worker to exit and the manager to remove its container',
  );
  // Only one worker was started for the one run.
  expect(managerLog().match(/starting a worker/g), managerLog()).toHaveLength(1);
}, 240_000);
