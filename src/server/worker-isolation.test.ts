// What one worker can reach of another's work, against the real server (in-process, loopback,
// real SQLite): dependency reads only for runs it holds, reports/uploads/finishes only under its
// own assignment, and messages only its own. Root's runs go to root's worker on an exclusive queue.
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpClient } from '../common/http-client.js';
import {
  AcceptedResponse,
  Bundle,
  CheckinResponse,
  MessagesResponse,
  User,
  WORKER_CLIENT_ID,
  Worksheet,
  routes,
  type Dependency,
  type RunReport,
} from '../protocol/index.js';
import { checkinBody } from '../../test/support/checkin-body.js';
import { HANG_DEADLINE_MS, waitFor } from '../../test/support/wait-for.js';
import { loggedInClient, startTestServer, type TestServer } from './test-server.js';

let ts: TestServer;
let worksheet: Worksheet;
/** Bob's worker token: another user's worker. */
let bobWorker: HttpClient;
let files: string;

beforeAll(async () => {
  ts = await startTestServer();
  worksheet = await ts.client.json(routes.homeWorksheet(), Worksheet);
  await ts.client.json(routes.users(), User, { json: { user_name: 'iso-bob', password: 'iso-bob-password' } });
  bobWorker = await loggedInClient(ts.server.url, 'iso-bob', 'iso-bob-password', WORKER_CLIENT_ID);
  files = await mkdtemp(join(tmpdir(), 'cl-isolation-'));
});

afterAll(async () => {
  await ts.stop();
  await rm(files, { recursive: true, force: true });
});

/** A ready dataset of root's holding `sub/a.txt` and `other.txt`. */
async function dataset(name: string): Promise<Bundle> {
  const dir = join(files, name);
  await mkdir(join(dir, 'sub'), { recursive: true });
  await writeFile(join(dir, 'sub', 'a.txt'), 'inside sub\n');
  await writeFile(join(dir, 'other.txt'), 'outside sub\n');
  const created = await ts.client.json(routes.createBundle(worksheet.uuid), Bundle, { json: { bundle_type: 'dataset', metadata: { name } } });
  const body = Readable.from(tar.c({ cwd: dir }, ['.']) as unknown as AsyncIterable<Buffer>);
  return ts.client.json(routes.uploadContents(created.uuid, { unpack: true, filename: 'data.tar' }), Bundle, { method: 'PUT', body });
}

/** A run of root's on `queue`, taken and started by root's worker `workerId`; returns its report. */
async function startedRun(queue: string, workerId: string, dependencies: Dependency[] = []): Promise<RunReport> {
  const run = await ts.client.json(routes.createBundle(worksheet.uuid), Bundle, {
    json: { bundle_type: 'run', command: 'true', metadata: { request_queue: `tag=${queue}` }, dependencies },
  });
  await ts.workerClient.json(routes.checkin(workerId), CheckinResponse, { json: checkinBody({ tag: queue, tag_exclusive: true }) });
  const assignment = await waitFor(async () => {
    const { messages } = await ts.workerClient.json(routes.messages(workerId, 1), MessagesResponse);
    const message = messages.find((m) => m.type === 'run' && m.run.uuid === run.uuid);
    return message?.type === 'run' ? message.assignment_id : undefined;
  }, HANG_DEADLINE_MS, `run ${run.uuid} to be sent to ${workerId}`);
  const started = await ts.workerClient.json(routes.startRun(workerId, run.uuid), AcceptedResponse, { json: { assignment_id: assignment, hostname: 'h' } });
  expect(started.accepted).toBe(true);
  return { uuid: run.uuid, assignment_id: assignment, state: 'preparing', progress: {} };
}

const finishBody = (assignment: string) => ({ assignment_id: assignment, exitcode: 0, failure_message: null, killed: false, progress: {} });
const stateOf = async (uuid: string) => (await ts.client.json(routes.bundle(uuid), Bundle)).state;

async function readStatus(client: HttpClient, workerId: string, uuid: string, path: string): Promise<number | string> {
  try {
    return await (await client.send(routes.dependencyBlob(workerId, uuid, path))).text();
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

describe('dependency reads of a worker', () => {
  it('serve the dependencies of runs it holds, at or below their path, and nothing else', async () => {
    const data = await dataset('iso-data');
    const unrelated = await dataset('iso-unrelated');
    expect(await readStatus(ts.workerClient, 'dep-w', data.uuid, 'sub/a.txt')).toBe('not_found');
    const run = await startedRun('iso-deps', 'dep-w', [{ child_path: 'in', parent_uuid: data.uuid, parent_path: 'sub' }]);

    expect(await readStatus(ts.workerClient, 'dep-w', data.uuid, 'sub/a.txt')).toBe('inside sub\n');
    expect(await readStatus(ts.workerClient, 'dep-w', data.uuid, 'other.txt')).toBe('not_found');
    expect(await readStatus(ts.workerClient, 'dep-w', data.uuid, 'sub/../other.txt')).toBe('not_found');
    expect(await readStatus(ts.workerClient, 'dep-w', unrelated.uuid, 'sub/a.txt')).toBe('not_found');
    // Another worker of the same owner, and another owner's worker of the same id, hold no such run.
    expect(await readStatus(ts.workerClient, 'other-w', data.uuid, 'sub/a.txt')).toBe('not_found');
    expect(await readStatus(bobWorker, 'dep-w', data.uuid, 'sub/a.txt')).toBe('not_found');

    const finished = await ts.workerClient.json(routes.finishRun('dep-w', run.uuid), AcceptedResponse, { json: finishBody(run.assignment_id) });
    expect(finished.accepted).toBe(true);
    expect(await readStatus(ts.workerClient, 'dep-w', data.uuid, 'sub/a.txt')).toBe('not_found');
  });
});

describe('runs of another worker', () => {
  it("are not reported, uploaded or finished by another user's worker, even of the same id with the run's assignment", async () => {
    // Bob's worker checks in on the same exclusive queue under the same id: the run is still root's worker's.
    await bobWorker.json(routes.checkin('cross-w'), CheckinResponse, { json: checkinBody({ tag: 'iso-cross', tag_exclusive: true }) });
    const run = await startedRun('iso-cross', 'cross-w');

    const claimed = await bobWorker.json(routes.checkin('cross-w'), CheckinResponse, {
      json: checkinBody({ tag: 'iso-cross', tag_exclusive: true, runs: [{ ...run, state: 'running' }] }),
    });
    expect(claimed.messages).toContainEqual(expect.objectContaining({ type: 'kill', uuid: run.uuid }));
    const results = Readable.from(tar.c({ cwd: files }, ['iso-data']) as unknown as AsyncIterable<Buffer>);
    const upload = await bobWorker.json(routes.runContents('cross-w', run.uuid, run.assignment_id), AcceptedResponse, { method: 'PUT', body: results });
    expect(upload.accepted).toBe(false);
    const finish = await bobWorker.json(routes.finishRun('cross-w', run.uuid), AcceptedResponse, { json: finishBody(run.assignment_id) });
    expect(finish.accepted).toBe(false);
    expect(await stateOf(run.uuid)).toBe('preparing');
    expect((await ts.client.json(routes.bundle(run.uuid), Bundle)).metadata.data_size).toBeUndefined();
  });

  it('are not changed by a worker of the same user naming a stale or wrong assignment', async () => {
    const run = await startedRun('iso-stale', 'stale-w');
    const forged = { ...run, assignment_id: 'forged', state: 'running' as const };
    const report = await ts.workerClient.json(routes.checkin('stale-w'), CheckinResponse, {
      json: checkinBody({ tag: 'iso-stale', tag_exclusive: true, runs: [forged] }),
    });
    expect(report.messages).toContainEqual(expect.objectContaining({ type: 'kill', uuid: run.uuid }));
    for (const workerId of ['stale-w', 'stale-other']) {
      const finish = await ts.workerClient.json(routes.finishRun(workerId, run.uuid), AcceptedResponse, { json: finishBody('forged') });
      expect(finish.accepted).toBe(false);
      const start = await ts.workerClient.json(routes.startRun(workerId, run.uuid), AcceptedResponse, { json: { assignment_id: 'forged', hostname: 'h' } });
      expect(start.accepted).toBe(false);
    }
    expect(await stateOf(run.uuid)).toBe('preparing');
  });

  it("never hands one worker's messages to another, not even to another user's worker of the same id", async () => {
    await bobWorker.json(routes.checkin('msg-w'), CheckinResponse, { json: checkinBody({ tag: 'iso-msg', tag_exclusive: true }) });
    const run = await ts.client.json(routes.createBundle(worksheet.uuid), Bundle, {
      json: { bundle_type: 'run', command: 'true', metadata: { request_queue: 'tag=iso-msg' }, dependencies: [] },
    });
    await ts.workerClient.json(routes.checkin('msg-w'), CheckinResponse, { json: checkinBody({ tag: 'iso-msg', tag_exclusive: true }) });
    await waitFor(async () => ((await stateOf(run.uuid)) === 'starting' ? true : undefined), HANG_DEADLINE_MS, 'the run to be assigned');
    const bobs = await bobWorker.json(routes.messages('msg-w', 0), MessagesResponse);
    expect(bobs.messages).toEqual([]);
    const roots = await ts.workerClient.json(routes.messages('msg-w', 0), MessagesResponse);
    expect(roots.messages).toContainEqual(expect.objectContaining({ type: 'run', run: expect.objectContaining({ uuid: run.uuid }) }));
  });
});
