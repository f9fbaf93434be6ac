// Limits and hardening of runs, end to end: a real worker against a stand-in server on loopback
// and the real dockerd. Each limit must end the run `failed` with its own message and numbers.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunSpec } from '../protocol/index.js';
import { createWorkerConfig } from './config.js';
import { DOCKER_SOCKET, ensureDocker, ensureTestImage } from './docker/docker-test-support.js';
import { startWorker, type RunningWorker } from './index.js';
import { silentLogger } from '../common/log.js';
import { FakeServer } from './testing/fake-server.js';

const M = 1024 ** 2;
let image = '';
let server: FakeServer;
let worker: RunningWorker | null = null;
let workDir = '';
let counter = 0;

function runSpec(command: string, resources: Partial<RunSpec['resources']> = {}): RunSpec {
  counter += 1;
  return {
    uuid: `0x${`${process.pid.toString(16)}f${counter.toString(16)}`.padStart(32, '0').slice(-32)}`,
    command,
    owner_id: '1',
    dependencies: [],
    resources: { docker_image: image, cpus: 1, gpus: 0, memory: 256 * M, disk: 0, time: 0, network: false, ...resources },
    exclude_patterns: [],
  };
}

async function start(overrides: Parameters<typeof createWorkerConfig>[1] = {}): Promise<void> {
  const url = server.url ?? (await server.listen());
  const config = createWorkerConfig(
    { serverUrl: url, username: 'u', password: 'p', workDir, hostname: 'limits-host' },
    { checkinFrequencySeconds: 1, killGraceSeconds: 1, slots: 4, dockerSocket: DOCKER_SOCKET, gpuset: [], ...overrides },
  );
  worker = await startWorker(config, { log: silentLogger });
}

async function outputOf(run: RunSpec): Promise<{ stdout: string; failure: string | null; progress: Record<string, unknown> }> {
  server.sendRun(run);
  const finish = await server.waitForFinish(run.uuid);
  const files = server.uploads.find((u) => u.uuid === run.uuid)?.files;
  return { stdout: files?.get('stdout') ?? '', failure: finish.failure_message, progress: finish.progress };
}

beforeAll(async () => {
  await ensureDocker();
  image = ensureTestImage();
});

beforeEach(() => {
  server = new FakeServer();
  workDir = mkdtempSync(path.join(os.tmpdir(), 'cl-limits-test-'));
});

afterEach(async () => {
  await worker?.stop();
  worker = null;
  await server.close();
  rmSync(workDir, { recursive: true, force: true });
});

describe('limits on a real worker', () => {
  it('fails a run that allocates past its memory limit with the memory message', async () => {
    await start();
    const run = runSpec('head -c 300m /dev/zero | tail > /dev/null; echo survived', { memory: 32 * M });
    server.sendRun(run);
    const finish = await server.waitForFinish(run.uuid);
    expect(finish.failure_message).toBe('Memory limit 32m exceeded (peak 32.0m). Raise --request-memory.');
    expect(finish.killed).toBe(false);
    expect(finish.progress.memory_max).toBeGreaterThanOrEqual(32 * M);
  });

  it('stops `sleep 60` with --request-time 2s, with the time message', async () => {
    await start();
    const run = runSpec('sleep 60', { time: 2 });
    server.sendRun(run);
    await server.waitFor(() => server.stagesOf(run.uuid).includes('running'), 'the run to start');
    // The message, not the clock, shows the limit was enforced: `sleep 60` would end with none.
    const finish = await server.waitForFinish(run.uuid);
    const message = /^Time limit 2s exceeded \(ran (\d+(?:\.\d)?)s\)\. Raise --request-time\.$/.exec(finish.failure_message ?? '');
    expect(message, String(finish.failure_message)).not.toBeNull();
    expect(Number(message?.[1])).toBeGreaterThanOrEqual(2);
    expect(finish.killed).toBe(false);
  });

  it('kills a run writing past --request-disk 5m with the disk message', async () => {
    await start();
    // At most 400m, so a broken watcher cannot fill the machine's disk.
    const run = runSpec('for i in $(seq 1 400); do head -c 1048576 /dev/zero >> big; done; echo wrote-all', { disk: 5 * M });
    const { stdout, failure } = await outputOf(run);
    expect(failure).toMatch(/^Disk limit 5m exceeded \(wrote \d+(\.\d)?m\)\. Raise --request-disk\.$/);
    expect(stdout).not.toContain('wrote-all');
  });

  it('counts what a run writes outside its directory (the writable layer) against the disk limit', async () => {
    await start();
    const run = runSpec('for i in $(seq 1 400); do head -c 1048576 /dev/zero >> /tmp/big; done; echo wrote-all', { disk: 5 * M });
    const { stdout, failure } = await outputOf(run);
    expect(failure).toMatch(/^Disk limit 5m exceeded/);
    expect(stdout).not.toContain('wrote-all');
  });

  it('gives a run without network no route out, and one with network a default route', async () => {
    await start();
    const probe = 'ls /sys/class/net | tr "\\n" " "; echo; tail -n +2 /proc/net/route | awk \'{print $2}\'';
    const off = await outputOf(runSpec(probe, { network: false }));
    expect(off.failure).toBeNull();
    expect(off.stdout.split('\n')[0]?.trim()).toBe('lo');
    expect(off.stdout).not.toContain('00000000');
    const on = await outputOf(runSpec(probe, { network: true }));
    expect(on.stdout).toContain('eth0');
    expect(on.stdout).toContain('00000000');
  });

  it('pins a run on a worker with --cpuset 0 to one CPU and records it', async () => {
    await start({ cpuset: [0] });
    const { stdout, progress } = await outputOf(runSpec('nproc; grep Cpus_allowed_list /proc/self/status'));
    expect(stdout).toMatch(/^1\nCpus_allowed_list:\s+0\n$/);
    expect(progress).toMatchObject({ cpuset: '0', gpuset: '' });
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
    const { stdout, failure } = await outputOf(runSpec(probe));
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
