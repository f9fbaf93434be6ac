// The worker end to end against the real server (in-process, on loopback) and the real dockerd:
// runs created through the REST API, assigned by the real scheduler, checked by what the server
// then shows. A fault proxy in front of the server supplies what it would not do by itself: a
// refused finish, a start held back while the run is withdrawn or its message re-sent.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Metadata } from '../protocol/index.js';
import { createWorkerConfig } from './config.js';
import { DockerRuntime } from './docker/docker-runtime.js';
import { DOCKER_SOCKET, ensureDocker, ensureTestImage } from './docker/docker-test-support.js';
import { startWorker, type RunningWorker } from './index.js';
import { createLogger, silentLogger } from '../common/log.js';
import type { Clock } from '../common/clock.js';
import { WORK_DIR_LABEL, WORKER_LABEL } from './docker/container-runtime.js';
import { gate, isMessagesPoll, isRunCall, stagesOf, startWorkerRig, type WorkerRig } from '../../test/support/worker-rig.js';
import { waitUntil } from '../../test/support/wait-for.js';

let image = '';
let rig: WorkerRig;
let worker: RunningWorker | null = null;
let workDir = '';
/** Each test's worker serves its own queue, so a run can only go to the worker of its own test. */
let queue = '';
let counter = 0;

async function start(overrides: Parameters<typeof createWorkerConfig>[1] = {}, clock?: Clock): Promise<RunningWorker> {
  const config = createWorkerConfig(
    { serverUrl: rig.workerUrl, username: rig.username, password: rig.password, workDir, hostname: 'test-host' },
    { checkinFrequencySeconds: 1, killGraceSeconds: 1, slots: 4, dockerSocket: DOCKER_SOCKET, tag: queue, ...overrides },
  );
  const log = process.env.WORKER_TEST_LOG ? createLogger({ program: 'cl-worker', verbose: true, format: 'text' }) : silentLogger;
  worker = await startWorker(config, { log, ...(clock ? { clock } : {}) });
  return worker;
}

function createRun(command: string, metadata: Metadata = {}, dependencies: Parameters<WorkerRig['createRun']>[2] = []) {
  return rig.createRun(command, { request_docker_image: image, request_memory: 256 * 1024 * 1024, request_queue: queue, ...metadata }, dependencies);
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
  queue = `agent-${counter}`;
  workDir = mkdtempSync(path.join(os.tmpdir(), 'cl-worker-test-'));
});

afterEach(async () => {
  await worker?.stop();
  worker = null;
  // A stopped worker leaves running runs for its next start: none comes, so remove them here.
  const docker = new DockerRuntime(DOCKER_SOCKET);
  for (const c of await docker.listContainers({ [WORK_DIR_LABEL]: path.join(workDir, 'runs') })) await docker.removeContainer(c.id);
  rmSync(workDir, { recursive: true, force: true });
});

describe('worker agent with real Docker', () => {
  it('runs a command with dependencies and uploads its results without deps or excluded files', async () => {
    const w = await start();
    const fileDep = await rig.uploadFile('in.txt', Buffer.from('from file\n'));
    const dirDep = await rig.uploadDirectory('dir', { 'inner/a.txt': 'from dir\n' });
    const run = await createRun('cat in.txt data/a.txt; echo oops >&2; id -u; mkdir sub; echo x > sub/f; echo y > skip.log', { exclude_patterns: ['*.log'] }, [
      { child_path: 'in.txt', parent_uuid: fileDep.uuid, parent_path: '' },
      { child_path: 'data', parent_uuid: dirDep.uuid, parent_path: 'inner' },
    ]);
    const done = await rig.waitForBundle(run.uuid, 'the run to finish');
    expect(done.state, String(done.metadata.failure_message)).toBe('ready');
    expect(done.metadata).toMatchObject({ exitcode: 0, remote: 'test-host' });
    expect(done.metadata.failure_message ?? null).toBeNull();
    expect(done.metadata.docker_image).toMatch(/^cl-test\/worker-bash:1@sha256:[0-9a-f]{64}$/);
    expect(done.metadata.time_running).toBeGreaterThan(0);
    const expectedUid = process.getuid?.() === 0 ? '65534' : String(process.getuid?.());
    const files = await rig.files(run.uuid);
    expect(files.get('stdout')).toBe(`from file\nfrom dir\n${expectedUid}\n`);
    expect(files.get('stderr')).toBe('oops\n');
    expect(files.get('sub/f')).toBe('x\n');
    expect([...files.keys()].sort()).toEqual(['stderr', 'stdout', 'sub/', 'sub/f']);
    const order = ['preparing', 'running', 'finalizing'];
    const stages = stagesOf(rig.checkins(), run.uuid);
    expect(stages.length).toBeGreaterThan(0);
    expect([...stages].sort((a, b) => order.indexOf(a) - order.indexOf(b))).toEqual(stages);
    await waitUntil(() => !existsSync(path.join(workDir, 'runs', run.uuid)), 'the run dir to be deleted');
    expect(await new DockerRuntime(DOCKER_SOCKET).listContainers({ [WORKER_LABEL]: w.id })).toEqual([]);
    // The dependency cache is reused: a second run needs no new download.
    const isDownload = (r: { method: string; path: string }) => r.method === 'GET' && /^\/rest\/workers\/[^/]+\/bundles\//.test(r.path) && r.path.includes(`/bundles/${fileDep.uuid}/contents/blob`);
    const before = rig.proxy.seen.filter(isDownload).length;
    expect(before).toBe(1);
    const again = await createRun('cat in.txt', {}, [{ child_path: 'in.txt', parent_uuid: fileDep.uuid, parent_path: '' }]);
    expect(await rig.waitForBundle(again.uuid, 'the second run to finish')).toMatchObject({ state: 'ready', metadata: { exitcode: 0 } });
    expect(rig.proxy.seen.filter(isDownload)).toHaveLength(before);
    const last = rig.checkins().at(-1);
    expect(last?.cached_dependencies.sort()).toEqual([`${fileDep.uuid}:`, `${dirDep.uuid}:inner`].sort());
  });

  it('reports a failing command with its exit code, and dedupes a re-sent run message', async () => {
    // The start is held back while the server offers the run again: every message poll before
    // the start lands carries it once more.
    const held = gate();
    rig.proxy.inject(isRunCall('start'), { hold: held.opened }, 1);
    await start();
    const run = await createRun('echo partial > out.txt; exit 3');
    const startCall = await rig.proxy.waitForRequest(isRunCall('start', run.uuid), 'the start call');
    const from = rig.proxy.seen.indexOf(startCall);
    // The second poll after the start is sent only once the first one's answer (the run again) was handled.
    await waitUntil(() => rig.proxy.seen.slice(from).filter(isMessagesPoll).length >= 2, 'two message polls after the start');
    held.open();
    const done = await rig.waitForBundle(run.uuid, 'the run to finish');
    expect(done).toMatchObject({ state: 'failed', metadata: { exitcode: 3, failure_message: 'Exit code 3' } });
    expect(await rig.cat(run.uuid, 'out.txt')).toBe('partial\n');
    expect(rig.proxy.seen.filter(isRunCall('start', run.uuid))).toHaveLength(1);
  });

  it('kills a running run on a kill message and uploads what exists', async () => {
    await start();
    const run = await createRun('echo started; sleep 60');
    await rig.waitForBundle(run.uuid, 'the run to be running', (b) => b.state === 'running');
    // Read through the server from the worker while the run runs: the echo has happened.
    await waitUntil(async () => (await rig.cat(run.uuid, 'stdout').catch(() => '')) === 'started\n', 'the live stdout to show the echo');
    await rig.kill(run.uuid);
    // `sleep 60` left alone would finish unkilled; how fast a kill lands is bench/kill-latency.mjs's.
    const done = await rig.waitForBundle(run.uuid, 'the run to finish');
    expect(done).toMatchObject({ state: 'killed', metadata: { failure_message: 'Kill requested' } });
    expect(await rig.cat(run.uuid, 'stdout')).toBe('started\n');
  });

  it('enforces the time limit and the memory limit', async () => {
    await start();
    const slow = await createRun('sleep 30', { request_time: 1 });
    const hungry = await createRun('head -c 300m /dev/zero | tail > /dev/null; echo survived', { request_memory: 32 * 1024 * 1024 });
    const timed = await rig.waitForBundle(slow.uuid, 'the slow run to finish');
    expect(timed.state).toBe('failed');
    expect(timed.metadata.failure_message).toMatch(/^Time limit 1s exceeded \(ran \d+(\.\d)?s\)\. Raise --request-time\.$/);
    const oom = await rig.waitForBundle(hungry.uuid, 'the hungry run to finish');
    expect(oom.state).toBe('failed');
    expect(oom.metadata.failure_message).toBe('Memory limit 32m exceeded (peak 32.0m). Raise --request-memory.');
  });

  it('fails a run whose image is missing and cannot be pulled, naming the image', async () => {
    await start();
    const run = await createRun('true', { request_docker_image: '127.0.0.1:1/nope:1' });
    const done = await rig.waitForBundle(run.uuid, 'the run to fail');
    expect(done.state).toBe('failed');
    expect(done.metadata.failure_message).toMatch(/^Docker image '127\.0\.0\.1:1\/nope:1' not found locally and could not be pulled: /);
    expect(done.metadata.exitcode ?? null).toBeNull();
  });

  it('fails a run whose dependency does not exist', async () => {
    await start();
    const parent = await rig.uploadDirectory('parent', { 'a.txt': 'a\n' });
    const run = await createRun('true', {}, [{ child_path: 'x', parent_uuid: parent.uuid, parent_path: 'missing' }]);
    const done = await rig.waitForBundle(run.uuid, 'the run to fail');
    expect(done.state).toBe('failed');
    expect(done.metadata.failure_message).toMatch(/^Failed to download dependency x: Target 'missing' doesn't exist/);
  });

  it('retries a finish the server could not take, and drops a run the server withdraws', async () => {
    rig.proxy.inject(isRunCall('finish'), { answer: { status: 503, body: { error: { code: 'unavailable', message: 'busy' } } } }, 1);
    await start();
    const run = await createRun('echo ok');
    expect(await rig.waitForBundle(run.uuid, 'the run to finish')).toMatchObject({ state: 'ready', metadata: { exitcode: 0 } });
    const finishes = () => rig.proxy.seen.filter(isRunCall('finish', run.uuid)).map((r) => r.status);
    await waitUntil(() => finishes().every((s) => s !== undefined), 'the finish answers to be sent');
    expect(finishes()).toEqual([503, 200]);

    // The run is killed while its start is held back: the server then refuses the start.
    const held = gate();
    rig.proxy.inject(isRunCall('start'), { hold: held.opened }, 1);
    const withdrawn = await createRun('echo never');
    const startCall = await rig.proxy.waitForRequest(isRunCall('start', withdrawn.uuid), 'the start call');
    expect(await rig.kill(withdrawn.uuid)).toMatchObject({ state: 'killed' });
    held.open();
    await waitUntil(() => startCall.status !== undefined, 'the refused start to be answered');
    // A later run goes through: the worker dropped the withdrawn one and kept going.
    const after = await createRun('echo after');
    expect(await rig.waitForBundle(after.uuid, 'a later run to finish')).toMatchObject({ state: 'ready' });
    expect(rig.proxy.seen.some((r) => isRunCall('contents', withdrawn.uuid)(r) || isRunCall('finish', withdrawn.uuid)(r))).toBe(false);
    expect(rig.checkins().some((c) => c.runs.some((r) => r.uuid === withdrawn.uuid))).toBe(false);
    expect(await rig.bundle(withdrawn.uuid)).toMatchObject({ state: 'killed', is_dir: null });
  });

  it("reports its resources and, after a grace period, removes containers no run owns, not a namesake worker's", async () => {
    const docker = new DockerRuntime(DOCKER_SOCKET);
    const w0 = await start({ id: 'leftover-test' });
    await w0.stop();
    worker = null;
    const leftover = async (name: string, labels: Record<string, string>): Promise<string> => {
      const id = await docker.createContainer({
        name: `cl-${name}-${process.pid}`, image, command: ['/bin/bash', '-c', 'sleep 60'], workingDir: '/', env: {},
        user: '0:0', mounts: [], memoryBytes: 64 << 20, cpus: 1, cpuset: [], network: false,
        labels: { [WORKER_LABEL]: 'leftover-test', 'org.codalab.run': '0x' + 'f'.repeat(32), ...labels }, logMaxBytes: 1 << 20,
      });
      await docker.startContainer(id);
      return id;
    };
    const made = [
      await leftover('leftover', { [WORK_DIR_LABEL]: path.join(workDir, 'runs') }),
      await leftover('leftover-unlabelled', {}),
    ];
    // The same worker id, on the same machine, for another server and work dir.
    const namesake = await leftover('namesake', { [WORK_DIR_LABEL]: '/elsewhere/runs' });
    made.push(namesake);
    // Only this test's: another test process on this machine may have its own under this id.
    const ids = async (): Promise<string[]> =>
      (await docker.listContainers({ [WORKER_LABEL]: 'leftover-test' })).map((c) => c.id).filter((id) => made.includes(id)).sort();
    const all = await ids();
    expect(all).toHaveLength(3);
    // Within the grace period a container is kept: it may belong to a run being taken on.
    const before = rig.proxy.seen.length;
    const w1 = await start({ id: 'leftover-test' });
    // The sweep comes before each check-in: after one, it has happened.
    await waitUntil(() => rig.checkins(before).length >= 1, 'a check-in of the restarted worker');
    expect(await ids()).toEqual(all);
    await w1.stop();
    // A clock two minutes ahead (a fake one) puts them past the grace period.
    const from = rig.proxy.seen.length;
    const later = { now: () => Date.now() + 120_000 };
    await start({ id: 'leftover-test', cpuset: [0], maxMemoryBytes: 1024 }, later);
    // The worker sweeps before its first check-in.
    const info = await rig.waitForWorker('leftover-test', (w) => w.memory_bytes === 1024);
    expect(await ids()).toEqual([namesake]);
    await docker.removeContainer(namesake);
    expect(info).toMatchObject({ cpus: 1, memory_bytes: 1024, slots: 4, docker_ok: true, gpus: 0, online: true, hostname: 'test-host' });
    expect(info.free_disk_bytes).toBeGreaterThan(0);
    expect(rig.checkins(from)[0]).toMatchObject({ runs_left: null });
  });
});
