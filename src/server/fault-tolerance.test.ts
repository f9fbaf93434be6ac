// Fault tolerance of the server, over real HTTP on loopback with real SQLite, driven by scripted
// workers: the reconcile at check-in, adoption by a restarted worker, leases of silent workers,
// bounds on stuck states and uploads, runs handed back, and oversized results. Timeouts are
// decided on a fake clock the test advances; each test has its own server.
import { lstat, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { tarOf } from '../../test/support/worker-rig.js';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpClient } from '../common/http-client.js';
import {
  AcceptedResponse,
  Bundle,
  CheckinResponse,
  MessagesResponse,
  User,
  WORKER_CLIENT_ID,
  WorkerInfo,
  Worksheet,
  bundleOpsRoutes,
  routes,
  type Metadata,
  type RunReport,
  type WorkerCheckin,
  type WorkerMessage,
} from '../protocol/index.js';
import { z } from 'zod';
import { SqliteStore } from './store/sqlite-store.js';
import { loggedInClient, startTestServer, type TestServer } from './test-server.js';
import type { ServerConfig } from './config.js';
import { checkinBody } from '../../test/support/checkin-body.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { HANG_DEADLINE_MS, waitFor } from '../../test/support/wait-for.js';

const SECOND = 1000;
const MIB = 1024 ** 2;

interface Harness {
  ts: TestServer;
  clock: FakeClock;
  client: HttpClient;
  /** Root's worker token, for the worker routes. */
  worker: HttpClient;
  worksheet: Worksheet;
}

const started: TestServer[] = [];
/** Homes a stopped server kept for the next one; removed after the test. */
const keptHomes: string[] = [];

afterEach(async () => {
  for (const ts of started.splice(0)) await ts.stop();
  for (const home of keptHomes.splice(0)) await rm(home, { recursive: true, force: true });
});

async function harness(overrides: Partial<ServerConfig> = {}): Promise<Harness> {
  const clock = new FakeClock();
  const ts = await startTestServer(overrides, { clock });
  started.push(ts);
  return { ts, clock, client: ts.client, worker: ts.workerClient, worksheet: await ts.client.json(routes.homeWorksheet(), Worksheet) };
}

async function createRun(h: Harness, metadata: Metadata = {}): Promise<Bundle> {
  return h.client.json(routes.createBundle(h.worksheet.uuid), Bundle, {
    json: { bundle_type: 'run', command: 'sleep 100', metadata: { request_queue: 'tag=ft', ...metadata }, dependencies: [] },
  });
}

function getBundle(h: Harness, uuid: string): Promise<Bundle> {
  return h.client.json(routes.bundle(uuid), Bundle);
}

function waitForBundle(h: Harness, uuid: string, what: string, isDone: (b: Bundle) => boolean): Promise<Bundle> {
  return waitFor(async () => {
    const b = await getBundle(h, uuid);
    return isDone(b) ? b : undefined;
  }, HANG_DEADLINE_MS, `${what} (bundle ${uuid})`);
}

function checkin(client: HttpClient, workerId: string, overrides: Partial<WorkerCheckin> = {}): Promise<CheckinResponse> {
  return client.json(routes.checkin(workerId), CheckinResponse, { json: checkinBody({ tag: 'ft', ...overrides }) });
}

/** Checks in as `workerId` until the run message for `uuid` arrives; returns its assignment id. */
async function takeRun(client: HttpClient, workerId: string, uuid: string): Promise<string> {
  await checkin(client, workerId);
  return waitFor(async () => {
    const { messages } = await client.json(routes.messages(workerId, 1), MessagesResponse);
    const message = messages.find((m) => m.type === 'run' && m.run.uuid === uuid);
    return message?.type === 'run' ? message.assignment_id : undefined;
  }, HANG_DEADLINE_MS, `the run message of ${uuid} for worker ${workerId}`);
}

async function startRun(client: HttpClient, workerId: string, uuid: string, assignmentId: string): Promise<void> {
  const { accepted } = await client.json(routes.startRun(workerId, uuid), AcceptedResponse, { json: { assignment_id: assignmentId, hostname: 'h' } });
  expect(accepted).toBe(true);
}

/** A run taken and started by `workerId`; with `image`, its container has started (reported running). */
async function runOn(h: Harness, workerId: string, image: boolean, metadata: Metadata = {}): Promise<{ uuid: string; report: RunReport }> {
  const run = await createRun(h, metadata);
  const assignment = await takeRun(h.worker, workerId, run.uuid);
  await startRun(h.worker, workerId, run.uuid, assignment);
  const report: RunReport = image
    ? { uuid: run.uuid, assignment_id: assignment, state: 'running', progress: { docker_image: 'img@sha256:1' } }
    : { uuid: run.uuid, assignment_id: assignment, state: 'preparing', progress: {} };
  await checkin(h.worker, workerId, { runs: [report] });
  return { uuid: run.uuid, report };
}

function killsIn(messages: readonly WorkerMessage[], uuid: string): string[] {
  return messages.flatMap((m) => (m.type === 'kill' && m.uuid === uuid ? [m.message] : []));
}

/** A new user's worker token (worker routes only). */
async function workerOf(h: Harness, username: string): Promise<HttpClient> {
  const password = `${username}-password`;
  await h.client.json('/rest/users', User, { json: { user_name: username, password } });
  return loggedInClient(h.ts.server.url, username, password, WORKER_CLIENT_ID);
}

describe('reconcile at check-in', () => {
  it('resolves runs a restarted worker no longer has: stages again what never started, fails the rest', async () => {
    const h = await harness();
    const containerRun = await runOn(h, 'w1', true);
    const preparing = await runOn(h, 'w1', false);
    const reports = [containerRun.report, preparing.report];
    await checkin(h.worker, 'w1', { runs: reports });

    // Within the grace period a missing run is left alone: its start may have raced the check-in.
    await checkin(h.worker, 'w1', { runs: [] });
    expect((await getBundle(h, containerRun.uuid)).state).toBe('running');

    h.clock.advance(11 * SECOND);
    // A run the worker is still taking on (its start in flight) is named in pending_runs and kept.
    await checkin(h.worker, 'w1', { runs: [], pending_runs: [{ uuid: preparing.uuid, assignment_id: preparing.report.assignment_id }] });
    expect(await getBundle(h, containerRun.uuid)).toMatchObject({
      state: 'failed',
      metadata: { failure_message: 'Worker w1 restarted and no longer has this run.' },
    });
    expect((await getBundle(h, preparing.uuid)).state).toBe('preparing');

    // runs_left 0: the worker takes nothing more, so the staged run stays staged to be seen.
    await checkin(h.worker, 'w1', { runs: [], runs_left: 0 });
    const staged = await getBundle(h, preparing.uuid);
    expect(staged.state).toBe('staged');
    // The scheduler adds why it waits now; why it was staged again stays in front.
    expect(String(staged.metadata.staged_status)).toMatch(/^Worker w1 restarted before starting this run; staged again\./);
    const [worker] = (await h.client.json(routes.workersInfo(), z.array(WorkerInfo))).filter((w) => w.id === 'w1');
    expect(worker?.runs).toEqual([]);
  });
});

describe('adoption by a restarted worker', () => {
  it('moves a run to the worker of the same owner that names its assignment; never to another owner', async () => {
    const h = await harness();
    const { uuid, report } = await runOn(h, 'old-id', true);

    const bob = await workerOf(h, 'bob');
    const foreign = await checkin(bob, 'bob-worker', { runs: [report] });
    expect(killsIn(foreign.messages, uuid)).toEqual(['This run is no longer assigned to this worker.']);
    const foreignFinish = await bob.json(routes.finishRun('bob-worker', uuid), AcceptedResponse, {
      json: { assignment_id: report.assignment_id, exitcode: 0, failure_message: null, killed: false, progress: {} },
    });
    expect(foreignFinish.accepted).toBe(false);

    const adopted = await checkin(h.worker, 'new-id', { runs: [report] });
    expect(killsIn(adopted.messages, uuid)).toEqual([]);
    const workers = await h.client.json(routes.workersInfo(), z.array(WorkerInfo));
    expect(workers.find((w) => w.id === 'new-id')?.runs).toEqual([uuid]);
    expect(workers.find((w) => w.id === 'old-id')?.runs).toEqual([]);

    // Finish (like upload) adopts too: a third id of the same owner ends the run.
    const finished = await h.worker.json(routes.finishRun('third-id', uuid), AcceptedResponse, {
      json: { assignment_id: report.assignment_id, exitcode: 0, failure_message: null, killed: false, progress: {} },
    });
    expect(finished.accepted).toBe(true);
    expect((await getBundle(h, uuid)).state).toBe('ready');
  });
});

describe('silent workers (fake clock)', () => {
  it('marks a run worker_offline, returns it when its worker reports it, and fails it after the lease', async () => {
    const h = await harness();
    const { uuid, report } = await runOn(h, 'w1', true);

    h.clock.advance(45 * SECOND);
    const offline = await waitForBundle(h, uuid, 'the run to be worker_offline', (b) => b.state === 'worker_offline');
    expect(offline.metadata.run_status).toBe('Worker w1 stopped checking in; last heard 45s ago.');
    h.clock.advance(4 * 60 * SECOND);
    await waitForBundle(h, uuid, 'the offline status to be refreshed', (b) => b.metadata.run_status === 'Worker w1 stopped checking in; last heard 4m ago.');

    await checkin(h.worker, 'w1', { runs: [report] });
    expect((await getBundle(h, uuid)).state).toBe('running');

    h.clock.advance(31 * 60 * SECOND);
    const failed = await waitForBundle(h, uuid, 'the lease to expire', (b) => b.state === 'failed');
    expect(failed.metadata.failure_message).toBe(
      'Worker w1 was last heard 31m ago; the run was given up after the lease of 30m (--worker-lease-seconds).',
    );
    // The worker comes back after all: its report is stale, and it is told to drop the run.
    const late = await checkin(h.worker, 'w1', { runs: [report] });
    expect(killsIn(late.messages, uuid)).toEqual(['This run is no longer assigned to this worker.']);
    expect((await getBundle(h, uuid)).state).toBe('failed');
  });

  it('delivers a kill of a worker_offline run when its worker returns', async () => {
    const h = await harness();
    const { uuid, report } = await runOn(h, 'w1', true);
    h.clock.advance(45 * SECOND);
    await waitForBundle(h, uuid, 'the run to be worker_offline', (b) => b.state === 'worker_offline');
    await h.client.send(routes.bundleActions(), { json: { type: 'kill', uuid } });
    expect((await getBundle(h, uuid)).state).toBe('killed');

    const back = await checkin(h.worker, 'w1', { runs: [report] });
    expect(killsIn(back.messages, uuid)).toEqual(['Kill requested']);
  });
});

describe('runs deleted while their worker was away (fake clock)', () => {
  it('tells a returning worker to drop a run deleted meanwhile, and takes the rest of its check-in', async () => {
    const h = await harness();
    const { uuid, report } = await runOn(h, 'w1', true);
    h.clock.advance(45 * SECOND);
    await waitForBundle(h, uuid, 'the run to be worker_offline', (b) => b.state === 'worker_offline');
    await h.client.send(bundleOpsRoutes.deleteBundles(), { json: { uuids: [uuid], force: true } });

    const back = await checkin(h.worker, 'w1', { runs: [report], slots: 3 });
    expect(killsIn(back.messages, uuid)).toEqual(['This run is no longer assigned to this worker.']);
    expect((await h.client.json(routes.workersInfo(), z.array(WorkerInfo))).find((w) => w.id === 'w1')?.slots).toBe(3);
  });
});

describe('bounds on stuck runs (fake clock)', () => {
  it('fails a run stuck in preparing and tells its worker to stop it', async () => {
    const h = await harness({ preparingTimeoutSeconds: 60 });
    const { uuid, report } = await runOn(h, 'w1', false);
    h.clock.advance(61 * SECOND);
    // The worker keeps checking in, still preparing: only the time in the state counts.
    await checkin(h.worker, 'w1', { runs: [report] });
    const failed = await waitForBundle(h, uuid, 'the run to fail', (b) => b.state === 'failed');
    expect(failed.metadata.failure_message).toBe('Stuck in preparing for 1m (--preparing-timeout-seconds); the worker was told to stop it.');
    expect(killsIn((await checkin(h.worker, 'w1', { runs: [report] })).messages, uuid)).toHaveLength(1);
  });
});

describe('runs handed back', () => {
  it('stages a run again when its worker hands it back; only the holder may', async () => {
    const h = await harness();
    const { uuid, report } = await runOn(h, 'w1', false);
    // runs_left 0: the worker takes nothing more, so the staged run stays staged to be seen.
    await checkin(h.worker, 'w1', { runs: [report], runs_left: 0 });
    const handBack = (assignment: string): Promise<AcceptedResponse> =>
      h.worker.json(routes.finishRun('w1', uuid), AcceptedResponse, {
        json: { assignment_id: assignment, exitcode: null, failure_message: null, killed: false, progress: {}, restage: true },
      });
    expect((await handBack('not-the-assignment')).accepted).toBe(false);
    expect((await handBack(report.assignment_id)).accepted).toBe(true);
    const staged = await getBundle(h, uuid);
    expect(staged).toMatchObject({ state: 'staged', metadata: { run_status: null } });
    expect(String(staged.metadata.staged_status)).toMatch(/^Handed back by worker w1 when it stopped; staged again\./);
  });
});

describe('result uploads bounded by the disk request', () => {
  it('refuses results larger than the disk request and a margin, stores nothing, and lets the run finish', async () => {
    const h = await harness();
    const { uuid, report } = await runOn(h, 'w1', true, { request_disk: MIB });
    const tar = await tarOf({ big: Buffer.alloc(18 * MIB, 1) });
    await expect(
      h.worker.json(routes.runContents('w1', uuid, report.assignment_id), AcceptedResponse, { method: 'PUT', body: Readable.from([tar]) }),
    ).rejects.toThrow(/larger than its disk request \(--request-disk 1m; up to 17m is accepted\); nothing was stored/);
    expect(await lstat(join(h.ts.home, 'store', 'bundles', uuid)).catch(() => null)).toBeNull();
    expect(await readdir(join(h.ts.home, 'store', 'staging'))).toEqual([]);

    const small = await tarOf({ stdout: Buffer.from('ok\n') });
    const uploaded = await h.worker.json(routes.runContents('w1', uuid, report.assignment_id), AcceptedResponse, { method: 'PUT', body: Readable.from([small]) });
    expect(uploaded.accepted).toBe(true);
    const finished = await h.worker.json(routes.finishRun('w1', uuid), AcceptedResponse, {
      json: { assignment_id: report.assignment_id, exitcode: null, failure_message: 'Results over the disk request.', killed: false, progress: {} },
    });
    expect(finished.accepted).toBe(true);
    expect(await getBundle(h, uuid)).toMatchObject({ state: 'failed', metadata: { failure_message: 'Results over the disk request.' } });
  });
});

describe('dataset uploads bounded in time', () => {
  it('fails a dataset whose upload did not arrive in time, never one still arriving (fake clock)', async () => {
    const h = await harness();
    const create = (name: string): Promise<Bundle> =>
      h.client.json(routes.createBundle(h.worksheet.uuid), Bundle, { json: { bundle_type: 'dataset', metadata: { name } } });
    const abandoned = await create('abandoned');
    const arriving = await create('arriving');
    const body = new PassThrough();
    body.write('first half, ');
    const upload = h.client.json(routes.uploadContents(arriving.uuid, { unpack: false, filename: 'a.txt' }), Bundle, { method: 'PUT', body });
    await waitFor(async () => ((await readdir(join(h.ts.home, 'store', 'staging'))).length > 0 ? true : undefined), HANG_DEADLINE_MS, 'the upload to reach staging');

    h.clock.advance(601 * SECOND);
    const failed = await waitForBundle(h, abandoned.uuid, 'the abandoned upload to fail', (b) => b.state === 'failed');
    expect(failed.metadata.failure_message).toBe('No upload arrived within 10m; upload it again.');
    body.end('second half');
    expect((await upload).state).toBe('ready');
  });

  it('fails at start a dataset left uploading by a stopped server, and clears what its upload staged', async () => {
    const first = await startTestServer();
    const worksheet = await first.client.json(routes.homeWorksheet(), Worksheet);
    const dataset = await first.client.json(routes.createBundle(worksheet.uuid), Bundle, { json: { bundle_type: 'dataset', metadata: { name: 'cut' } } });
    await first.stopKeepingHome();
    // What an upload cut off by a crash leaves behind.
    await mkdir(join(first.home, 'store', 'staging', `${dataset.uuid}-0000`));
    await writeFile(join(first.home, 'store', 'staging', `${dataset.uuid}-0000`, 'file'), 'partial');

    keptHomes.push(first.home);
    const second = await startTestServer({ home: first.home });
    started.push(second);
    expect(await second.client.json(routes.bundle(dataset.uuid), Bundle)).toMatchObject({
      state: 'failed',
      metadata: { failure_message: 'Upload interrupted by a server restart; upload it again.' },
    });
    expect(await readdir(join(first.home, 'store', 'staging'))).toEqual([]);
  });
});

describe('makes across a restart', () => {
  it('assembles again a make left making by a stopped server', async () => {
    const first = await startTestServer();
    const worksheet = await first.client.json(routes.homeWorksheet(), Worksheet);
    const data = await first.client.json(routes.createBundle(worksheet.uuid), Bundle, { json: { bundle_type: 'dataset', metadata: { name: 'src' } } });
    await first.client.json(routes.uploadContents(data.uuid, { unpack: false, filename: 'a.txt' }), Bundle, { method: 'PUT', body: Readable.from([Buffer.from('a\n')]) });
    const make = await first.client.json(routes.createBundle(worksheet.uuid), Bundle, {
      json: { bundle_type: 'make', metadata: { name: 'm' }, dependencies: [{ child_path: 'x', parent_uuid: data.uuid, parent_path: '' }] },
    });
    await waitFor(async () => ((await first.client.json(routes.bundle(make.uuid), Bundle)).state === 'ready' ? true : undefined), HANG_DEADLINE_MS, 'the make');
    await first.stopKeepingHome();
    // The state a crash during assembly leaves.
    const store = new SqliteStore(join(first.home, 'db.sqlite'));
    await store.updateBundle(make.uuid, { state: 'making', last_updated: Date.now() });
    await store.close();

    keptHomes.push(first.home);
    const second = await startTestServer({ home: first.home });
    started.push(second);
    const ready = await waitFor(async () => {
      const b = await second.client.json(routes.bundle(make.uuid), Bundle);
      return b.state === 'ready' ? b : undefined;
    }, HANG_DEADLINE_MS, 'the make assembled again');
    expect(ready.metadata.data_size).toBe(2);
  });
});
