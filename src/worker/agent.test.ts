// The worker end to end against a stand-in server on loopback and the real dockerd: accepting,
// running, uploading and finishing runs, kills, limits, retries, dedupe and stale assignments.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { RunSpec } from '../protocol/index.js';
import { createWorkerConfig } from './config.js';
import { DockerRuntime } from './docker/docker-runtime.js';
import { DOCKER_SOCKET, ensureDocker, ensureTestImage } from './docker/docker-test-support.js';
import { startWorker, type RunningWorker } from './index.js';
import { createLogger, silentLogger } from '../common/log.js';
import { FakeServer, tarOf } from './testing/fake-server.js';
import { WORKER_LABEL } from './docker/container-runtime.js';

let image = '';
let server: FakeServer;
let worker: RunningWorker | null = null;
let workDir = '';
let counter = 0;

function uuid(): string {
  counter += 1;
  return `0x${(process.pid.toString(16) + counter.toString(16)).padStart(32, '0').slice(-32)}`;
}

function runSpec(command: string, overrides: Partial<RunSpec['resources']> = {}, extra: Partial<RunSpec> = {}): RunSpec {
  return {
    uuid: uuid(),
    command,
    owner_id: '1',
    dependencies: [],
    resources: { docker_image: image, cpus: 1, gpus: 0, memory: 256 * 1024 * 1024, disk: 0, time: 0, network: false, ...overrides },
    exclude_patterns: [],
    ...extra,
  };
}

async function start(overrides: Parameters<typeof createWorkerConfig>[1] = {}): Promise<RunningWorker> {
  const url = server.url ?? (await server.listen());
  const config = createWorkerConfig(
    { serverUrl: url, username: 'u', password: 'p', workDir, hostname: 'test-host' },
    { checkinFrequencySeconds: 1, killGraceSeconds: 1, slots: 4, dockerSocket: DOCKER_SOCKET, ...overrides },
  );
  worker = await startWorker(config, { log: process.env.WORKER_TEST_LOG ? createLogger({ program: 'cl-worker', verbose: true, format: 'text' }) : silentLogger });
  return worker;
}

beforeAll(async () => {
  await ensureDocker();
  image = ensureTestImage();
});

beforeEach(() => {
  server = new FakeServer();
  workDir = mkdtempSync(path.join(os.tmpdir(), 'cl-worker-test-'));
});

afterEach(async () => {
  await worker?.stop();
  worker = null;
  await server.close();
  rmSync(workDir, { recursive: true, force: true });
});

afterAll(() => undefined);

describe('worker agent with real Docker', () => {
  it('runs a command with dependencies and uploads its results without deps or excluded files', async () => {
    const w = await start();
    const run = runSpec('cat in.txt data/a.txt; echo oops >&2; id -u; mkdir sub; echo x > sub/f; echo y > skip.log', {}, {
      exclude_patterns: ['*.log'],
    });
    const fileDep = uuid();
    const dirDep = uuid();
    server.blobs.set(`${fileDep}:`, { type: 'file', body: Buffer.from('from file\n') });
    server.blobs.set(`${dirDep}:inner`, { type: 'directory', body: await tarOf({ 'a.txt': 'from dir\n' }) });
    run.dependencies = [
      { child_path: 'in.txt', parent_uuid: fileDep, parent_path: '' },
      { child_path: 'data', parent_uuid: dirDep, parent_path: 'inner' },
    ];
    server.sendRun(run);
    const finish = await server.waitForFinish(run.uuid);
    expect(finish).toMatchObject({ exitcode: 0, failure_message: null, killed: false });
    expect(finish.progress.docker_image).toMatch(/^cl-test\/worker-bash:1@sha256:[0-9a-f]{64}$/);
    expect(finish.progress.remote).toBe('test-host');
    expect(finish.progress.time_running).toBeGreaterThan(0);
    const upload = server.uploads.find((u) => u.uuid === run.uuid);
    expect(upload?.assignmentId).toBe(`a-${run.uuid.slice(2, 10)}`);
    const expectedUid = process.getuid?.() === 0 ? '65534' : String(process.getuid?.());
    expect(upload?.files.get('stdout')).toBe(`from file\nfrom dir\n${expectedUid}\n`);
    expect(upload?.files.get('stderr')).toBe('oops\n');
    expect(upload?.files.get('sub/f')).toBe('x\n');
    expect([...(upload?.files.keys() ?? [])].sort()).toEqual(['stderr', 'stdout', 'sub/', 'sub/f']);
    const order = ['preparing', 'running', 'finalizing'];
    const stages = server.stagesOf(run.uuid);
    expect(stages.length).toBeGreaterThan(0);
    expect([...stages].sort((a, b) => order.indexOf(a) - order.indexOf(b))).toEqual(stages);
    await server.waitFor(() => !existsSync(path.join(workDir, 'runs', run.uuid)), 'the run dir to be deleted');
    expect(await new DockerRuntime(DOCKER_SOCKET).listContainers({ [WORKER_LABEL]: w.id })).toEqual([]);
    // The dependency cache is reused: a second run needs no new download.
    const before = server.blobRequests;
    const again = runSpec('cat in.txt', {}, { dependencies: [{ child_path: 'in.txt', parent_uuid: fileDep, parent_path: '' }] });
    server.sendRun(again);
    expect(await server.waitForFinish(again.uuid)).toMatchObject({ exitcode: 0 });
    expect(server.blobRequests).toBe(before);
    const last = server.checkins[server.checkins.length - 1];
    expect(last?.cached_dependencies.sort()).toEqual([`${fileDep}:`, `${dirDep}:inner`].sort());
  });

  it('reports a failing command with its exit code, and dedupes a re-sent run message', async () => {
    await start();
    const run = runSpec('echo partial > out.txt; exit 3');
    server.sendRun(run);
    server.sendRun(run);
    const finish = await server.waitForFinish(run.uuid);
    expect(finish).toMatchObject({ exitcode: 3, failure_message: 'Exit code 3', killed: false });
    expect(server.uploads.find((u) => u.uuid === run.uuid)?.files.get('out.txt')).toBe('partial\n');
    expect(server.starts.filter((s) => s.uuid === run.uuid)).toHaveLength(1);
  });

  it('kills a running run on a kill message and uploads what exists', async () => {
    await start();
    const run = runSpec('echo started; sleep 60');
    server.sendRun(run, 'a1');
    await server.waitFor(() => server.stagesOf(run.uuid).includes('running'), 'the run to be reported running');
    server.sendMessage({ type: 'kill', uuid: run.uuid, assignment_id: 'a1', message: 'Kill requested' });
    // `sleep 60` left alone would finish unkilled; how fast a kill lands is bench/kill-latency.mjs's.
    const finish = await server.waitForFinish(run.uuid);
    expect(finish).toMatchObject({ killed: true, failure_message: 'Kill requested' });
    expect(server.uploads.find((u) => u.uuid === run.uuid)?.files.get('stdout')).toBe('started\n');
  });

  it('enforces the time limit and the memory limit', async () => {
    await start();
    const slow = runSpec('sleep 30', { time: 1 });
    const hungry = runSpec('head -c 300m /dev/zero | tail > /dev/null; echo survived', { memory: 32 * 1024 * 1024 });
    server.sendRun(slow);
    server.sendRun(hungry);
    const timed = await server.waitForFinish(slow.uuid);
    expect(timed.failure_message).toMatch(/^Time limit 1s exceeded \(ran \d+(\.\d)?s\)\. Raise --request-time\.$/);
    expect(timed.killed).toBe(false);
    const oom = await server.waitForFinish(hungry.uuid);
    expect(oom.failure_message).toBe('Memory limit 32m exceeded (peak 32.0m). Raise --request-memory.');
  });

  it('fails a run whose image is missing and cannot be pulled, naming the image', async () => {
    await start();
    const run = runSpec('true', { docker_image: '127.0.0.1:1/nope:1' });
    server.sendRun(run);
    const finish = await server.waitForFinish(run.uuid);
    expect(finish.failure_message).toMatch(/^Docker image '127\.0\.0\.1:1\/nope:1' not found locally and could not be pulled: /);
    expect(finish.exitcode).toBeNull();
  });

  it('fails a run whose dependency does not exist', async () => {
    await start();
    const run = runSpec('true', {}, { dependencies: [{ child_path: 'x', parent_uuid: uuid(), parent_path: '' }] });
    server.sendRun(run);
    const finish = await server.waitForFinish(run.uuid);
    expect(finish.failure_message).toMatch(/^Failed to download dependency x: no such target/);
  });

  it('retries a finish the server could not take, and drops a run the server withdraws', async () => {
    await start();
    server.finishAnswers.push({ status: 503, body: { error: { code: 'unavailable', message: 'busy' } } });
    const run = runSpec('echo ok');
    server.sendRun(run);
    expect(await server.waitForFinish(run.uuid)).toMatchObject({ exitcode: 0 });
    server.startAnswers.push({ status: 200, body: { accepted: false, reason: 'reassigned' } });
    const withdrawn = runSpec('echo never');
    server.sendRun(withdrawn);
    await server.waitFor(() => server.starts.some((s) => s.uuid === withdrawn.uuid), 'the start call');
    // A check-in after the refused start that holds no run: the worker has dropped it, so no
    // upload can follow.
    const checkinsBefore = server.checkins.length;
    await server.waitFor(
      () => server.checkins.slice(checkinsBefore).some((c) => c.runs.length === 0),
      'a check-in without the withdrawn run',
    );
    expect(server.uploads.some((u) => u.uuid === withdrawn.uuid)).toBe(false);
  });

  it('reports its resources and removes leftover labelled containers on start', async () => {
    const docker = new DockerRuntime(DOCKER_SOCKET);
    const w0 = await start({ id: 'leftover-test' });
    await w0.stop();
    worker = null;
    const id = await docker.createContainer({
      name: `cl-leftover-${process.pid}`, image, command: ['/bin/bash', '-c', 'sleep 60'], workingDir: '/', env: {},
      user: '0:0', mounts: [], memoryBytes: 64 << 20, cpus: 1, cpuset: [], network: false,
      labels: { [WORKER_LABEL]: 'leftover-test', 'org.codalab.run': '0x' + 'f'.repeat(32) }, logMaxBytes: 1 << 20,
    });
    await docker.startContainer(id);
    await start({ id: 'leftover-test', cpuset: [0], maxMemoryBytes: 1024 });
    await server.waitFor(() => server.checkins.length >= 2, 'two check-ins');
    expect(await docker.listContainers({ [WORKER_LABEL]: 'leftover-test' })).toEqual([]);
    expect(server.checkins[1]).toMatchObject({ cpus: 1, memory_bytes: 1024, slots: 4, docker_ok: true, gpus: 0, runs_left: null });
    expect(server.checkins[1]?.free_disk_bytes).toBeGreaterThan(0);
  });
});
