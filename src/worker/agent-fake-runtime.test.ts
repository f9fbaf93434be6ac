// The worker with the fake container runtime against the real server (in-process, on loopback):
// paths that need Docker to misbehave on purpose. Runs are created through the REST API and
// checked by what the server shows; a fault proxy holds a start back (so Docker can go away
// between assignment and preparation), forges what a server would not send, or slows a download.
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Bundle, Dependency, WorkerMessage } from '../protocol/index.js';
import { createWorkerConfig } from './config.js';
import { FakeRuntime } from './docker/fake-runtime.js';
import { ImageCache } from './images/image-cache.js';
import { startWorker, type RunningWorker } from './index.js';
import { silentLogger, type Logger } from '../common/log.js';
import { gate, isMessagesPoll, isRunCall, startWorkerRig, type WorkerRig } from '../../test/support/worker-rig.js';
import { waitUntil } from '../../test/support/wait-for.js';

let rig: WorkerRig;
let runtime: FakeRuntime;
let worker: RunningWorker | null = null;
let workDir = '';
/** Each test's worker serves its own queue, so a run can only go to the worker of its own test. */
let queue = '';
let counter = 0;
const IMAGE = { id: 'sha256:abc', digest: 'img@sha256:abc' };
const M = 1024 ** 2;

function createRun(dependencies: Dependency[] = []): Promise<Bundle> {
  return rig.createRun('true', { request_docker_image: 'img:1', request_memory: 256 * M, request_queue: queue }, dependencies);
}

async function start(log: Logger = silentLogger, overrides: Parameters<typeof createWorkerConfig>[1] = {}): Promise<RunningWorker> {
  const config = createWorkerConfig(
    { serverUrl: rig.workerUrl, username: rig.username, password: rig.password, workDir, hostname: 'h' },
    { checkinFrequencySeconds: 1, id: queue, tag: queue, ...overrides },
  );
  worker = await startWorker(config, { log, runtime });
  return worker;
}

/** Holds the next start call back, and returns what lets it go once the run's start was seen. */
async function holdNextStart(): Promise<{ release: () => void; started: (uuid: string) => Promise<void> }> {
  const held = gate();
  rig.proxy.inject(isRunCall('start'), { hold: held.opened }, 1);
  return {
    release: held.open,
    started: async (uuid) => void (await rig.proxy.waitForRequest(isRunCall('start', uuid), 'the start call')),
  };
}

beforeAll(async () => {
  rig = await startWorkerRig();
});

afterAll(async () => {
  await rig.stop();
});

beforeEach(() => {
  counter += 1;
  queue = `fake-${counter}`;
  runtime = new FakeRuntime();
  runtime.images.set('img:1', IMAGE);
  workDir = mkdtempSync(path.join(os.tmpdir(), 'cl-worker-fake-'));
});

afterEach(async () => {
  await worker?.stop();
  worker = null;
  rmSync(workDir, { recursive: true, force: true });
});

describe('worker with a fake runtime', () => {
  it('keeps a run preparing while Docker is unreachable, says so, and runs it once Docker is back', async () => {
    const lines: string[] = [];
    const log: Logger = { ...silentLogger, error: (m) => lines.push(m), info: (m) => lines.push(m) };
    // Docker goes away after the server assigned the run (it sends none to a worker without Docker).
    const held = await holdNextStart();
    await start(log);
    const run = await createRun();
    await held.started(run.uuid);
    runtime.reachable = false;
    held.release();
    const waiting = await rig.waitForBundle(run.uuid, 'the run to wait for Docker', (b) => /^Waiting for Docker/.test(String(b.metadata.run_status)));
    expect(waiting.state).toBe('preparing');
    const info = await rig.waitForWorker(queue, (w) => !w.docker_ok);
    expect(info.docker_message).toMatch(/^Cannot reach Docker at fake:\/\/docker: /);
    // Several failed tries later, the outage was still logged once.
    const pings = runtime.calls.filter((c) => c === 'ping').length;
    await waitUntil(() => runtime.calls.filter((c) => c === 'ping').length >= pings + 2, 'two more tries to reach Docker');
    expect(lines.filter((l) => /Cannot reach Docker at fake:\/\/docker: .*; retrying every 1s/.test(l))).toHaveLength(1);
    runtime.reachable = true;
    const done = await rig.waitForBundle(run.uuid, 'the run to finish');
    expect(done).toMatchObject({ state: 'ready', metadata: { exitcode: 0, docker_image: 'img@sha256:abc' } });
    expect(done.metadata.failure_message ?? null).toBeNull();
    expect(await rig.waitForWorker(queue, (w) => w.docker_ok)).toMatchObject({ docker_message: null });
  });

  it('holds the image it pulled for a run until the run is cleaned up, then evicts it past --max-image-cache-size', async () => {
    runtime.images.delete('img:1');
    runtime.registry.set('img:1', { ...IMAGE, sizeBytes: 1000 });
    await start(silentLogger, { maxImageCacheSizeBytes: 10 });
    const run = await createRun();
    const done = await rig.waitForBundle(run.uuid, 'the run to finish');
    // Over the cap from its pull on, yet still there when the container was created: the run held it.
    expect(done.state).toBe('ready');
    expect(done.metadata.docker_image).toBe(IMAGE.digest);
    await waitUntil(() => !runtime.images.has('img:1'), 'the image to be evicted after the run');
    expect(runtime.calls.filter((c) => c.startsWith('pullImage'))).toEqual(['pullImage img:1']);
  });

  it('kills a run while it is preparing: no container, finished as killed', async () => {
    const held = await holdNextStart();
    await start();
    const run = await createRun();
    await held.started(run.uuid);
    runtime.reachable = false;
    held.release();
    await rig.waitForBundle(run.uuid, 'the run to wait for Docker', (b) => /^Waiting for Docker/.test(String(b.metadata.run_status)));
    await rig.kill(run.uuid);
    const done = await rig.waitForBundle(run.uuid, 'the run to finish');
    expect(done).toMatchObject({ state: 'killed', metadata: { failure_message: 'Kill requested' } });
    expect(done.metadata.exitcode ?? null).toBeNull();
    expect(runtime.calls.some((c) => c.startsWith('createContainer'))).toBe(false);
  });

  it('ignores a kill naming another assignment', async () => {
    runtime.behaviour = () => 'until-stopped';
    await start();
    const run = await createRun();
    await rig.waitForBundle(run.uuid, 'the run to be running', (b) => b.state === 'running');
    // A forged answer to the next message poll: a kill for this run under someone else's
    // assignment. The poll the server is holding is cut so that the next one comes at once.
    const foreign: WorkerMessage = { type: 'kill', uuid: run.uuid, assignment_id: 'someone-else', message: 'Kill requested (foreign)' };
    rig.proxy.inject(isMessagesPoll, { answer: { status: 200, body: { messages: [foreign] } } }, 1);
    const from = rig.proxy.seen.length;
    rig.proxy.cutOpen(isMessagesPoll);
    // The poll after the forged answer is sent only once that answer was handled.
    await waitUntil(() => rig.proxy.seen.slice(from).filter(isMessagesPoll).length >= 2, 'a poll after the forged kill');
    expect((await rig.bundle(run.uuid)).state).toBe('running');
    await rig.kill(run.uuid);
    // Had the foreign kill been obeyed, its message would be the failure message, and the run
    // would have been stopped twice.
    expect(await rig.waitForBundle(run.uuid, 'the run to finish')).toMatchObject({ state: 'killed', metadata: { failure_message: 'Kill requested' } });
    expect(runtime.calls.filter((c) => c.startsWith('stopContainer'))).toHaveLength(1);
  });

  it('fails a run whose dependency path would escape the run dir, starting no container', async () => {
    // The server refuses such a key when a run is created, so the proxy forges it into the run message.
    const escape = (body: unknown): unknown => JSON.parse(JSON.stringify(body).replaceAll('"child_path":"escape"', '"child_path":"../escape"'));
    rig.proxy.inject((r) => isMessagesPoll(r) || /\/checkin$/.test(r.path), { edit: escape });
    await start();
    const parent = await rig.uploadFile('x', Buffer.from('x'));
    const run = await createRun([{ child_path: 'escape', parent_uuid: parent.uuid, parent_path: '' }]);
    const done = await rig.waitForBundle(run.uuid, 'the run to fail');
    expect(done.state).toBe('failed');
    expect(done.metadata.failure_message).toBe("Invalid dependency path '../escape': it must stay inside the run directory.");
    expect(runtime.calls.some((c) => c.startsWith('createContainer'))).toBe(false);
  });

  it('exits after --exit-after-num-runs runs, reporting the runs left', async () => {
    const from = rig.proxy.seen.length;
    const w = await start(silentLogger, { exitAfterNumRuns: 1 });
    const run = await createRun();
    expect(await rig.waitForBundle(run.uuid, 'the run to finish')).toMatchObject({ state: 'ready' });
    await expect(w.done).resolves.toBe('runs-done');
    expect(rig.checkins(from)[0]?.runs_left).toBe(1);
    expect(rig.checkins(from).at(-1)?.runs_left).toBe(0);
  });

  it('exits when idle with --exit-when-idle', async () => {
    const w = await start(silentLogger, { exitWhenIdle: true, idleSeconds: 0.5 });
    await expect(w.done).resolves.toBe('idle');
    expect(await rig.waitForWorker(queue)).toMatchObject({ runs: [] });
  });
});

describe('progress of a preparing run', () => {
  it('reports the bytes of a dependency being downloaded, of its data_size', async () => {
    const parent = await rig.uploadFile('big', Buffer.alloc(4 * M, 1));
    // The download comes in 1m parts; each part waits until the server shows a new status.
    const shown = new Set<string>();
    let runUuid = '';
    const nextStatus = async (): Promise<void> => {
      const count = shown.size;
      await rig.waitForBundle(runUuid, 'a new download status', (b) => {
        const status = String(b.metadata.run_status);
        if (status.startsWith('Downloading dependency data: ')) shown.add(status);
        return shown.size > count;
      });
    };
    const isDownload = (r: { method: string; path: string }) => r.method === 'GET' && /^\/rest\/workers\/[^/]+\/bundles\//.test(r.path) && r.path.includes(`/bundles/${parent.uuid}/contents/blob`);
    rig.proxy.inject(isDownload, { pace: { chunkBytes: M, between: nextStatus } }, 1);
    await start();
    const run = await createRun([{ child_path: 'in', parent_uuid: parent.uuid, parent_path: '' }]);
    runUuid = run.uuid;
    expect(await rig.waitForBundle(run.uuid, 'the run to finish')).toMatchObject({ state: 'ready' });
    expect(shown.size).toBeGreaterThanOrEqual(3);
    // What had arrived when the worker checked in: part of a 1m chunk shows in k.
    for (const status of shown) expect(status).toMatch(/^Downloading dependency data: [\d.]+[km]? of 4m$/);
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
    const cache = new ImageCache({ runtime: rt });
    const seen: Array<number | null> = [];
    await cache.ensure('busybox', (percent) => seen.push(percent));
    expect(seen).toEqual([null, null, 50, 100]);
  });

  it('pulls a missing image once for concurrent runs, and names the image when it cannot', async () => {
    const rt = new FakeRuntime();
    rt.registry.set('busybox:latest', { id: 'sha256:1', digest: 'busybox@sha256:1' });
    const cache = new ImageCache({ runtime: rt });
    const [a, b] = await Promise.all([cache.ensure('busybox'), cache.ensure('busybox:latest')]);
    expect([a.id, a.digest]).toEqual([b.id, b.digest]);
    expect(rt.calls.filter((c) => c.startsWith('pullImage'))).toEqual(['pullImage busybox:latest']);
    await expect(cache.ensure('nope:1')).rejects.toThrow("Docker image 'nope:1' not found locally and could not be pulled: pull access denied for nope:1");
  });
});
