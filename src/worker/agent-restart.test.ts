// A worker stopped and started again on the same work dir, against the real server (in-process,
// on loopback) and the real dockerd: its runs go on in their containers and end as if nothing had
// happened, or, with --pass-down-termination, go back to the server's queue. (A kill -9 of the
// worker process is covered by test/faults, which runs real processes.)
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Metadata } from '../protocol/index.js';
import { createWorkerConfig } from './config.js';
import { RUN_LABEL, WORK_DIR_LABEL } from './docker/container-runtime.js';
import { DockerRuntime } from './docker/docker-runtime.js';
import { DOCKER_SOCKET, ensureDocker, ensureTestImage } from './docker/docker-test-support.js';
import { startWorker, type RunningWorker } from './index.js';
import { silentLogger } from '../common/log.js';
import { startWorkerRig, type WorkerRig } from '../../test/support/worker-rig.js';
import { waitUntil } from '../../test/support/wait-for.js';

let image = '';
let rig: WorkerRig;
let workDir = '';
/** Every work dir a test made, removed after it. */
const workDirs: string[] = [];
let queue = '';
let counter = 0;
const workers: RunningWorker[] = [];
const docker = new DockerRuntime(DOCKER_SOCKET);

async function start(overrides: Parameters<typeof createWorkerConfig>[1] = {}): Promise<RunningWorker> {
  const config = createWorkerConfig(
    { serverUrl: rig.workerUrl, username: rig.username, password: rig.password, workDir, hostname: 'test-host' },
    { id: `restart-${counter}`, checkinFrequencySeconds: 1, killGraceSeconds: 1, slots: 2, dockerSocket: DOCKER_SOCKET, tag: queue, ...overrides },
  );
  const worker = await startWorker(config, { log: silentLogger });
  workers.push(worker);
  return worker;
}

function createRun(command: string, metadata: Metadata = {}) {
  return rig.createRun(command, { request_docker_image: image, request_memory: 128 * 1024 * 1024, request_queue: queue, ...metadata });
}

function containersOf(uuid: string) {
  return docker.listContainers({ [RUN_LABEL]: uuid, [WORK_DIR_LABEL]: path.join(workDir, 'runs') });
}

beforeAll(async () => {
  await ensureDocker();
  image = ensureTestImage();
  rig = await startWorkerRig('restart-owner');
});

afterAll(async () => {
  await rig.stop();
});

function newWorkDir(): void {
  workDir = mkdtempSync(path.join(os.tmpdir(), 'cl-worker-restart-'));
  workDirs.push(workDir);
}

beforeEach(() => {
  counter += 1;
  queue = `restart-${counter}`;
  newWorkDir();
});

afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
  for (const dir of workDirs.splice(0)) {
    for (const c of await docker.listContainers({ [WORK_DIR_LABEL]: path.join(dir, 'runs') })) await docker.removeContainer(c.id);
    rmSync(dir, { recursive: true, force: true });
  }
});

describe('a worker started again on the same work dir (real Docker)', () => {
  it('takes up a run still running: it goes on in the same container and ends ready with all its output', async () => {
    const first = await start();
    const run = await createRun('for i in 1 2 3 4 5 6; do echo $i; sleep 1; done');
    // Its first line can be read before the worker's report of `running` reached the server.
    await waitUntil(
      async () => (await rig.bundle(run.uuid)).state === 'running' && (await rig.cat(run.uuid, 'stdout').catch(() => '')).startsWith('1\n'),
      'the run to be running and print its first line',
    );
    await first.stop();
    const [container] = await containersOf(run.uuid);
    expect(container?.running).toBe(true);
    expect((await rig.bundle(run.uuid)).state).toBe('running');

    await start();
    const done = await rig.waitForBundle(run.uuid, 'the run to finish');
    expect(done.state, String(done.metadata.failure_message)).toBe('ready');
    expect(done.metadata).toMatchObject({ exitcode: 0 });
    expect(await rig.cat(run.uuid, 'stdout')).toBe('1\n2\n3\n4\n5\n6\n');
    // The same container ran it from start to end, and is gone once the server has the results.
    await waitUntil(async () => (await containersOf(run.uuid)).length === 0, 'the container to be removed');
    await waitUntil(() => readdirSync(path.join(workDir, 'run-records')).length === 0, 'the run record to be removed');
  });

  it('finishes a run whose container exited while the worker was down, keeping its results', async () => {
    const first = await start();
    const run = await createRun('echo made > out.txt; echo done; sleep 2; exit 4');
    await rig.waitForBundle(run.uuid, 'the run to be running', (b) => b.state === 'running');
    await first.stop();
    await waitUntil(async () => (await containersOf(run.uuid)).every((c) => !c.running), 'the container to exit');

    await start();
    const done = await rig.waitForBundle(run.uuid, 'the run to finish');
    expect(done).toMatchObject({ state: 'failed', metadata: { exitcode: 4, failure_message: 'Exit code 4' } });
    expect(await rig.cat(run.uuid, 'stdout')).toBe('done\n');
    expect(await rig.cat(run.uuid, 'out.txt')).toBe('made\n');
  });

  it("keeps the time limit counted from the run's real start", async () => {
    const first = await start();
    const run = await createRun('sleep 60', { request_time: 6 });
    await rig.waitForBundle(run.uuid, 'the run to be running', (b) => b.state === 'running');
    await first.stop();
    // Down for 4 of its 6 seconds: counted from the re-attach, the limit would give it 6 more.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    await start();
    const done = await rig.waitForBundle(run.uuid, 'the run to finish');
    expect(done.state).toBe('failed');
    expect(done.metadata.failure_message).toMatch(/^Time limit 6s exceeded/);
    expect(Number(done.metadata.time_running)).toBeLessThan(9.5);
  });

  it('under another --id on the same work dir takes up the runs too', async () => {
    const first = await start();
    const run = await createRun('echo one; sleep 3; echo two');
    await rig.waitForBundle(run.uuid, 'the run to be running', (b) => b.state === 'running');
    await first.stop();
    await start({ id: `restart-${counter}-renamed` });
    const done = await rig.waitForBundle(run.uuid, 'the run to finish');
    expect(done.state, String(done.metadata.failure_message)).toBe('ready');
    expect(await rig.cat(run.uuid, 'stdout')).toBe('one\ntwo\n');
  });

  it('with --pass-down-termination stops its runs and gives them back, to run again elsewhere', async () => {
    const first = await start({ passDownTermination: true });
    const run = await createRun('echo attempt; sleep 60');
    await rig.waitForBundle(run.uuid, 'the run to be running', (b) => b.state === 'running');
    await first.stop();
    const handed = await rig.bundle(run.uuid);
    expect(handed.state).toBe('staged');
    expect(String(handed.metadata.staged_status)).toMatch(/handed back/i);
    expect(await containersOf(run.uuid)).toEqual([]);
    expect(readdirSync(path.join(workDir, 'run-records'))).toEqual([]);

    // Another worker runs it from the start.
    newWorkDir();
    await start({ id: `restart-${counter}-next` });
    await rig.waitForBundle(run.uuid, 'the run to run again', (b) => b.state === 'running');
    await waitUntil(async () => (await rig.cat(run.uuid, 'stdout').catch(() => '')) === 'attempt\n', 'the second attempt to print');
    await rig.kill(run.uuid);
    expect((await rig.waitForBundle(run.uuid, 'the run to end')).state).toBe('killed');
  });
});
