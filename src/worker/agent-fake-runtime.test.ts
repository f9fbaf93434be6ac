// The worker with the fake container runtime: paths that need Docker to misbehave on purpose.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunSpec } from '../protocol/index.js';
import { createWorkerConfig } from './config.js';
import { FakeRuntime } from './docker/fake-runtime.js';
import { ImageCache } from './images/image-cache.js';
import { startWorker, type RunningWorker } from './index.js';
import { silentLogger, type Logger } from '../common/log.js';
import { FakeServer } from './testing/fake-server.js';

let server: FakeServer;
let runtime: FakeRuntime;
let worker: RunningWorker | null = null;
let workDir = '';
const IMAGE = { id: 'sha256:abc', digest: 'img@sha256:abc' };

function runSpec(n: number): RunSpec {
  return {
    uuid: `0x${n.toString(16).padStart(32, '0')}`,
    command: 'true',
    owner_id: '1',
    dependencies: [],
    resources: { docker_image: 'img:1', cpus: 1, gpus: 0, memory: 1 << 30, disk: 0, time: 0, network: false },
    exclude_patterns: [],
  };
}

async function start(log: Logger = silentLogger, overrides: Parameters<typeof createWorkerConfig>[1] = {}): Promise<RunningWorker> {
  const url = await server.listen();
  const config = createWorkerConfig(
    { serverUrl: url, username: 'u', password: 'p', workDir, hostname: 'h' },
    { checkinFrequencySeconds: 1, ...overrides },
  );
  worker = await startWorker(config, { log, runtime });
  return worker;
}

beforeEach(() => {
  server = new FakeServer();
  runtime = new FakeRuntime();
  runtime.images.set('img:1', IMAGE);
  workDir = mkdtempSync(path.join(os.tmpdir(), 'cl-worker-fake-'));
});

afterEach(async () => {
  await worker?.stop();
  worker = null;
  await server.close();
  rmSync(workDir, { recursive: true, force: true });
});

describe('worker with a fake runtime', () => {
  it('keeps a run preparing while Docker is unreachable, says so, and runs it once Docker is back', async () => {
    const lines: string[] = [];
    const log: Logger = { ...silentLogger, error: (m) => lines.push(m), info: (m) => lines.push(m) };
    runtime.reachable = false;
    await start(log);
    const run = runSpec(1);
    server.sendRun(run);
    await server.waitFor(() => server.checkins.filter((c) => c.runs.some((r) => r.uuid === run.uuid)).length >= 2, 'two check-ins with the run');
    const last = server.checkins[server.checkins.length - 1];
    expect(last).toMatchObject({ docker_ok: false });
    expect(last?.docker_message).toMatch(/^Cannot reach Docker at fake:\/\/docker: /);
    expect(last?.runs[0]).toMatchObject({ state: 'preparing' });
    expect(last?.runs[0]?.progress.run_status).toMatch(/^Waiting for Docker/);
    expect(lines.filter((l) => /Cannot reach Docker at fake:\/\/docker: .*; retrying every 1s/.test(l))).toHaveLength(1);
    runtime.reachable = true;
    const finish = await server.waitForFinish(run.uuid);
    expect(finish).toMatchObject({ exitcode: 0, failure_message: null, progress: { docker_image: 'img@sha256:abc' } });
    expect(server.checkins[server.checkins.length - 1]?.docker_ok).toBe(true);
  });

  it('kills a run while it is preparing: no container, finished as killed', async () => {
    runtime.reachable = false;
    await start();
    const run = runSpec(2);
    server.sendRun(run, 'a2');
    await server.waitFor(() => server.starts.length === 1, 'the start');
    server.sendMessage({ type: 'kill', uuid: run.uuid, assignment_id: 'a2', message: 'Kill requested' });
    const finish = await server.waitForFinish(run.uuid);
    expect(finish).toMatchObject({ killed: true, failure_message: 'Kill requested', exitcode: null });
    expect(runtime.calls.some((c) => c.startsWith('createContainer'))).toBe(false);
  });

  it('ignores a kill naming another assignment', async () => {
    runtime.behaviour = () => 'until-stopped';
    await start();
    const run = runSpec(3);
    server.sendRun(run, 'mine');
    await server.waitFor(() => server.stagesOf(run.uuid).includes('running'), 'running');
    server.sendMessage({ type: 'kill', uuid: run.uuid, assignment_id: 'someone-else', message: 'Kill requested (foreign)' });
    server.sendMessage({ type: 'kill', uuid: run.uuid, assignment_id: 'mine', message: 'Kill requested' });
    // Messages are handled in order: had the foreign kill been obeyed, its message would be the
    // failure message, and the run would have been stopped twice.
    expect(await server.waitForFinish(run.uuid)).toMatchObject({ killed: true, failure_message: 'Kill requested' });
    expect(runtime.calls.filter((c) => c.startsWith('stopContainer'))).toHaveLength(1);
  });

  it('fails a run whose dependency path would escape the run dir, starting no container', async () => {
    await start();
    const run = { ...runSpec(5), dependencies: [{ child_path: '../escape', parent_uuid: runSpec(6).uuid, parent_path: '' }] };
    server.blobs.set(`${runSpec(6).uuid}:`, { type: 'file', body: Buffer.from('x') });
    server.sendRun(run);
    const finish = await server.waitForFinish(run.uuid);
    expect(finish.failure_message).toBe("Invalid dependency path '../escape': it must stay inside the run directory.");
    expect(runtime.calls.some((c) => c.startsWith('createContainer'))).toBe(false);
  });

  it('exits after --exit-after-num-runs runs, reporting the runs left', async () => {
    const w = await start(silentLogger, { exitAfterNumRuns: 1 });
    expect(server.checkins[0]?.runs_left ?? 1).toBe(1);
    server.sendRun(runSpec(4));
    await server.waitForFinish(runSpec(4).uuid);
    await expect(w.done).resolves.toBe('runs-done');
  });

  it('exits when idle with --exit-when-idle', async () => {
    const w = await start(silentLogger, { exitWhenIdle: true, idleSeconds: 0.5 });
    await expect(w.done).resolves.toBe('idle');
  });
});

describe('progress of a preparing run', () => {
  it('reports the bytes of a dependency being downloaded, of its data_size', async () => {
    const parent = `0x${'d'.repeat(32)}`;
    server.blobs.set(`${parent}:`, { type: 'file', body: Buffer.alloc(4 * 1024 * 1024, 1) });
    server.blobPartDelayMs = 1500;
    await start();
    const run = { ...runSpec(7), dependencies: [{ child_path: 'in', parent_uuid: parent, parent_path: '', data_size: 4 * 1024 * 1024 }] };
    server.sendRun(run);
    const shown = (): string[] =>
      server.checkins.flatMap((c) => c.runs.filter((r) => r.uuid === run.uuid).map((r) => String(r.progress.run_status)));
    await server.waitFor(() => shown().some((s) => /^Downloading dependency data: [\d.]+m of 4m$/.test(s)), 'a download status');
    await server.waitForFinish(run.uuid);
    expect(shown().filter((s) => s.startsWith('Downloading dependency data: ')).length).toBeGreaterThanOrEqual(2);
  });
});

describe('image cache', () => {
  it('tells every run waiting for a pull how far it got', async () => {
    const rt = new FakeRuntime();
    rt.registry.set('busybox:latest', { id: 'sha256:1', digest: 'busybox@sha256:1' });
    rt.pullEvents = [
      { id: 'a', status: 'Pulling fs layer' },
      { id: 'a', status: 'Downloading', current: 50, total: 100 },
      { id: 'a', status: 'Pull complete' },
    ];
    const cache = new ImageCache(rt);
    const seen: Array<number | null> = [];
    await cache.ensure('busybox', (percent) => seen.push(percent));
    expect(seen).toEqual([null, null, 50, 100]);
  });

  it('pulls a missing image once for concurrent runs, and names the image when it cannot', async () => {
    const rt = new FakeRuntime();
    rt.registry.set('busybox:latest', { id: 'sha256:1', digest: 'busybox@sha256:1' });
    const cache = new ImageCache(rt);
    const [a, b] = await Promise.all([cache.ensure('busybox'), cache.ensure('busybox:latest')]);
    expect(a).toEqual(b);
    expect(rt.calls.filter((c) => c.startsWith('pullImage'))).toEqual(['pullImage busybox:latest']);
    await expect(cache.ensure('nope:1')).rejects.toThrow("Docker image 'nope:1' not found locally and could not be pulled: pull access denied for nope:1");
  });
});
