// Limits and hardening of runs, end to end: a real worker against the real server (in-process,
// on loopback) and the real dockerd. Each limit must end the run `failed` with its own message and
// numbers, as the server then shows it.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Bundle, Metadata } from '../protocol/index.js';
import { createWorkerConfig } from './config.js';
import { DOCKER_SOCKET, ensureDocker, ensureTestImage } from './docker/docker-test-support.js';
import { startWorker, type RunningWorker } from './index.js';
import { silentLogger } from '../common/log.js';
import { startWorkerRig, type WorkerRig } from '../../test/support/worker-rig.js';

const M = 1024 ** 2;
let image = '';
let rig: WorkerRig;
let worker: RunningWorker | null = null;
let workDir = '';
/** Each test's worker serves its own queue, so a run can only go to the worker of its own test. */
let queue = '';
let counter = 0;

function createRun(command: string, metadata: Metadata = {}): Promise<Bundle> {
  return rig.createRun(command, { request_docker_image: image, request_memory: 256 * M, request_queue: queue, ...metadata });
}

async function start(overrides: Parameters<typeof createWorkerConfig>[1] = {}): Promise<void> {
  const config = createWorkerConfig(
    { serverUrl: rig.workerUrl, username: rig.username, password: rig.password, workDir, hostname: 'limits-host' },
    { checkinFrequencySeconds: 1, killGraceSeconds: 1, slots: 4, dockerSocket: DOCKER_SOCKET, gpuset: [], tag: queue, ...overrides },
  );
  worker = await startWorker(config, { log: silentLogger });
}

async function outputOf(command: string, metadata: Metadata = {}): Promise<{ state: string; stdout: string; failure: unknown; metadata: Metadata }> {
  const run = await createRun(command, metadata);
  const done = await rig.waitForBundle(run.uuid, 'the run to finish');
  return { state: done.state, stdout: await rig.cat(run.uuid, 'stdout'), failure: done.metadata.failure_message ?? null, metadata: done.metadata };
}

beforeAll(async () => {
  await ensureDocker();
  image = ensureTestImage();
  rig = await startWorkerRig();
});

afterAll(async () => {
  await rig.stop();
});

beforeEach(() => {
  counter += 1;
  queue = `limits-${counter}`;
  workDir = mkdtempSync(path.join(os.tmpdir(), 'cl-limits-test-'));
});

afterEach(async () => {
  await worker?.stop();
  worker = null;
  rmSync(workDir, { recursive: true, force: true });
});

describe('limits on a real worker', () => {
  it('fails a run that allocates past its memory limit with the memory message', async () => {
    await start();
    const run = await createRun('head -c 300m /dev/zero | tail > /dev/null; echo survived', { request_memory: 32 * M });
    const done = await rig.waitForBundle(run.uuid, 'the run to finish');
    expect(done.metadata.failure_message).toBe('Memory limit 32m exceeded (peak 32.0m). Raise --request-memory.');
    expect(done.state).toBe('failed');
    expect(done.metadata.memory_max).toBeGreaterThanOrEqual(32 * M);
  });

  it('stops `sleep 60` with --request-time 2s, with the time message', async () => {
    await start();
    const run = await createRun('sleep 60', { request_time: 2 });
    // The message, not the clock, shows the limit was enforced: `sleep 60` would end with none.
    const done = await rig.waitForBundle(run.uuid, 'the run to finish');
    const message = /^Time limit 2s exceeded \(ran (\d+(?:\.\d)?)s\)\. Raise --request-time\.$/.exec(String(done.metadata.failure_message));
    expect(message, String(done.metadata.failure_message)).not.toBeNull();
    expect(Number(message?.[1])).toBeGreaterThanOrEqual(2);
    expect(done.state).toBe('failed');
  });

  it('kills a run writing past --request-disk 5m with the disk message', async () => {
    await start();
    // At most 400m, so a broken watcher cannot fill the machine's disk.
    const { state, stdout, failure } = await outputOf('for i in $(seq 1 400); do head -c 1048576 /dev/zero >> big; done; echo wrote-all', { request_disk: 5 * M });
    expect(state).toBe('failed');
    // Its results upload keeps at most 5m and says what it left out.
    expect(failure).toMatch(/^Disk limit 5m exceeded \(wrote \d+(\.\d)?m\)\. Raise --request-disk\. Kept \S+ of the results; \S+ in 1 file was not uploaded\.$/);
    expect(stdout).not.toContain('wrote-all');
  });

  it('counts what a run writes outside its directory (the writable layer) against the disk limit', async () => {
    await start();
    const { state, stdout, failure } = await outputOf('for i in $(seq 1 400); do head -c 1048576 /dev/zero >> /tmp/big; done; echo wrote-all', { request_disk: 5 * M });
    expect(state).toBe('failed');
    expect(failure).toMatch(/^Disk limit 5m exceeded/);
    expect(stdout).not.toContain('wrote-all');
  });

  it('gives a run without network no route out, and one with network a default route', async () => {
    await start();
    const probe = 'ls /sys/class/net | tr "\\n" " "; echo; tail -n +2 /proc/net/route | awk \'{print $2}\'';
    const off = await outputOf(probe, { request_network: false });
    expect(off.failure).toBeNull();
    expect(off.stdout.split('\n')[0]?.trim()).toBe('lo');
    expect(off.stdout).not.toContain('00000000');
    const on = await outputOf(probe, { request_network: true });
    expect(on.stdout).toContain('eth0');
    expect(on.stdout).toContain('00000000');
  });

  it('pins a run on a worker with --cpuset 0 to one CPU and records it', async () => {
    await start({ cpuset: [0] });
    const { stdout, metadata } = await outputOf('nproc; grep Cpus_allowed_list /proc/self/status');
    expect(stdout).toMatch(/^1\nCpus_allowed_list:\s+0\n$/);
    expect(metadata).toMatchObject({ cpuset: '0', gpuset: '' });
  });

  it('hardens the container at no cost to the program', async () => {
    await start({ sharedMemoryBytes: 64 * M, pidsLimit: 200 });
    const probe = [
      'id -u',
      'grep NoNewPrivs /proc/self/status',
      'grep CapEff /proc/self/status',
      "df -k /dev/shm | tail -1 | awk '{print $2}'",
      'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max',
      'echo ok > written && cat written',
    ].join('; ');
    const { stdout, failure } = await outputOf(probe);
    expect(failure).toBeNull();
    const [uid, noNewPrivs, capEff, shm, pids, written] = stdout.trim().split('\n');
    expect(Number(uid)).not.toBe(0);
    expect(noNewPrivs).toMatch(/NoNewPrivs:\s+1/);
    expect(capEff).toMatch(/CapEff:\s+0+$/);
    expect(Number(shm)).toBe(64 * 1024);
    expect(pids).toBe('200');
    expect(written).toBe('ok');
  });
});
