// Quotas against a real server on loopback with real SQLite, driven by scripted workers over HTTP:
// disk and time accounting, refusals at creation, the kill at the time quota, the parallel-run
// quota in the scheduler, and root disabling an account.
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../../common/http-client.js';
import {
  AcceptedResponse,
  Bundle,
  CheckinResponse,
  DeleteBundlesResponse,
  bundleOpsRoutes,
  MessagesResponse,
  TokenResponse,
  User,
  UserInfo,
  Worksheet,
  routes,
  type EditUserRequest,
  type RunReport,
  type WorkerCheckin,
  WORKER_CLIENT_ID,
} from '../../protocol/index.js';
import { loggedInClient, startTestServer, type TestServer } from '../test-server.js';
import { HANG_DEADLINE_MS, waitFor } from '../../../test/support/wait-for.js';
import { checkinBody } from '../../../test/support/checkin-body.js';

let ts: TestServer;
let root: HttpClient;
/** Root's worker token: the shared workers' calls. */
let rootWorker: HttpClient;

beforeAll(async () => {
  ts = await startTestServer();
  root = ts.client;
  rootWorker = ts.workerClient;
});

afterAll(async () => {
  await ts.stop();
});

interface Account {
  name: string;
  password: string;
  client: HttpClient;
  /** The user's worker token, for a worker of their own. */
  worker: HttpClient;
  worksheet: Worksheet;
}

async function newUser(name: string): Promise<Account> {
  const password = `${name}-password`;
  await root.json('/rest/users', User, { json: { user_name: name, password } });
  const client = await login(name, password);
  const worker = await loggedInClient(ts.server.url, name, password, WORKER_CLIENT_ID);
  return { name, password, client, worker, worksheet: await client.json(routes.homeWorksheet(), Worksheet) };
}

async function login(username: string, password: string): Promise<HttpClient> {
  const client = new HttpClient({ baseUrl: ts.server.url });
  client.token = (await client.json(routes.token(), TokenResponse, { json: { grant_type: 'password', username, password } })).access_token;
  return client;
}

function uedit(client: HttpClient, name: string, change: EditUserRequest): Promise<UserInfo> {
  return client.json(routes.userInfo(name), UserInfo, { method: 'PATCH', json: change });
}

function uinfo(client: HttpClient, name: string): Promise<UserInfo> {
  return client.json(routes.userInfo(name), UserInfo);
}

async function uploadDataset(a: Account, bytes: number): Promise<Bundle> {
  const bundle = await a.client.json(routes.createBundle(a.worksheet.uuid), Bundle, { json: { bundle_type: 'dataset', metadata: { name: 'data' } } });
  return a.client.json(routes.uploadContents(bundle.uuid, { unpack: false, filename: 'f.bin' }), Bundle, {
    method: 'PUT',
    body: Readable.from([Buffer.alloc(bytes, 1)]),
  });
}

function createRun(a: Account, queue: string): Promise<Bundle> {
  return a.client.json(routes.createBundle(a.worksheet.uuid), Bundle, {
    json: { bundle_type: 'run', command: 'sleep 100', metadata: { request_queue: `tag=${queue}` }, dependencies: [] },
  });
}

function checkin(client: HttpClient, workerId: string, tag: string, overrides: Partial<WorkerCheckin> = {}): Promise<CheckinResponse> {
  return client.json(routes.checkin(workerId), CheckinResponse, { json: checkinBody({ tag, ...overrides }) });
}

/** Checks in as `workerId` until it is sent the run, starts it and reports it running; returns the report. */
async function runOn(worker: HttpClient, workerId: string, tag: string, uuid: string): Promise<RunReport> {
  await checkin(worker, workerId, tag);
  const assignment = await waitFor(async () => {
    const { messages } = await worker.json(routes.messages(workerId, 1), MessagesResponse);
    const message = messages.find((m) => m.type === 'run' && m.run.uuid === uuid);
    return message?.type === 'run' ? message.assignment_id : undefined;
  }, HANG_DEADLINE_MS, `the run message of ${uuid}`);
  const started = await worker.json(routes.startRun(workerId, uuid), AcceptedResponse, { json: { assignment_id: assignment, hostname: 'h' } });
  expect(started.accepted).toBe(true);
  const report: RunReport = { uuid, assignment_id: assignment, state: 'running', progress: { time: 0 } };
  await checkin(worker, workerId, tag, { runs: [report] });
  return report;
}

async function refusal(work: Promise<unknown>): Promise<string> {
  const error = await work.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(Error);
  return (error as Error).message;
}

describe('disk quota', () => {
  it('counts the contents of every bundle the user owns and refuses new bundles at the quota', async () => {
    const alice = await newUser('disk-alice');
    const first = await uploadDataset(alice, 3000);
    await uploadDataset(alice, 2000);
    expect(await uinfo(alice.client, alice.name)).toMatchObject({ bundles: 2, disk_used: 5000, disk_quota: 1024 ** 4 });

    await uedit(root, alice.name, { disk_quota: 4000 });
    expect(await refusal(uploadDataset(alice, 10))).toBe(
      'Disk quota exceeded: 4.9k used of 3.9k. Delete bundles (cl rm) or ask root for more (cl uedit).',
    );
    expect(await refusal(createRun(alice, 'disk'))).toMatch(/^Disk quota exceeded/);

    // Deleting brings the user under the quota again at once.
    await alice.client.json(bundleOpsRoutes.deleteBundles(), DeleteBundlesResponse, { json: { uuids: [first.uuid] } });
    expect((await uinfo(alice.client, alice.name)).disk_used).toBe(2000);
    expect((await uploadDataset(alice, 10)).state).toBe('ready');
  });

  it('does not limit root', async () => {
    const info = await uinfo(root, 'codalab');
    expect(info).toMatchObject({ is_root: true, disk_quota: null, time_quota: null, parallel_run_quota: null });
  });
});

describe('time quota', () => {
  it('charges run time on shared workers, kills the run at the quota with the reason, then refuses new runs', async () => {
    const bob = await newUser('time-bob');
    await uedit(root, bob.name, { time_quota: 10 });
    const run = await createRun(bob, 'time');
    const report = await runOn(rootWorker, 'shared-time', 'time', run.uuid);

    await checkin(rootWorker, 'shared-time', 'time', { runs: [{ ...report, progress: { time: 4 } }] });
    expect((await uinfo(bob.client, bob.name)).time_used).toBe(4);
    const response = await checkin(rootWorker, 'shared-time', 'time', { runs: [{ ...report, progress: { time: 11 } }] });
    expect((await uinfo(bob.client, bob.name)).time_used).toBe(11);
    expect(response.messages).toContainEqual({
      type: 'kill',
      uuid: run.uuid,
      assignment_id: report.assignment_id,
      message: 'Kill requested: time quota exceeded (11s used of 10s on shared workers)',
    });
    expect(await refusal(createRun(bob, 'time'))).toBe(
      'Time quota exceeded: 11s used of 10s on shared workers. Run on a worker of your own or ask root for more (cl uedit).',
    );
    // Datasets take no run time.
    expect((await uploadDataset(bob, 10)).state).toBe('ready');
  });

  it("does not charge runs on the user's own worker", async () => {
    const carol = await newUser('time-carol');
    const run = await createRun(carol, 'own');
    const report = await runOn(carol.worker, 'carol-worker', 'own', run.uuid);
    await checkin(carol.worker, 'carol-worker', 'own', { runs: [{ ...report, progress: { time: 50 } }] });
    await carol.worker.json(routes.finishRun('carol-worker', run.uuid), AcceptedResponse, {
      json: { assignment_id: report.assignment_id, exitcode: 0, failure_message: null, killed: false, progress: { time: 60 } },
    });
    expect((await uinfo(carol.client, carol.name)).time_used).toBe(0);
  });
});

describe('parallel-run quota', () => {
  it('keeps runs beyond the quota staged with the reason', async () => {
    const dave = await newUser('parallel-dave');
    await uedit(root, dave.name, { parallel_run_quota: 1 });
    const first = await createRun(dave, 'par');
    const second = await createRun(dave, 'par');
    await checkin(rootWorker, 'shared-par', 'par', { slots: 4 });
    const waiting = await waitFor(async () => {
      const [a, b] = await Promise.all([first, second].map((r) => dave.client.json(routes.bundle(r.uuid), Bundle)));
      if (!a || !b) return undefined;
      const started = [a, b].filter((x) => x.state === 'starting');
      const staged = [a, b].find((x) => x.state === 'staged' && String(x.metadata.staged_status ?? '').includes('parallel-run quota'));
      return started.length === 1 ? staged : undefined;
    }, HANG_DEADLINE_MS, 'one run started and one waiting for the quota');
    expect(waiting.metadata.staged_status).toBe('Waiting: owner has 1 run on shared workers, the parallel-run quota.');
    expect((await uinfo(root, dave.name)).parallel_runs).toBe(1);
  });
});

describe('access', () => {
  it('root disables an account: its tokens stop working and logins are refused; granting restores it', async () => {
    const erin = await newUser('access-erin');
    const info = await uedit(root, erin.name, { has_access: false });
    expect(info.has_access).toBe(false);
    expect(await refusal(erin.client.json(routes.user(), User))).toBe('Unknown access token: log in again.');
    expect(await refusal(login(erin.name, erin.password))).toBe("Account disabled; ask the server's administrator.");

    await uedit(root, erin.name, { has_access: true });
    const again = await login(erin.name, erin.password);
    expect((await again.json(routes.user(), User)).user_name).toBe(erin.name);
  });

  it('refuses quota changes and other accounts to users who are not root, changing nothing', async () => {
    const frank = await newUser('access-frank');
    const grace = await newUser('access-grace');
    expect(await refusal(uedit(frank.client, grace.name, { disk_quota: 1 }))).toBe(
      'Only root may change quotas or access (cl uedit); nothing was changed.',
    );
    expect(await refusal(uedit(frank.client, frank.name, { has_access: false }))).toMatch(/^Only root may/);
    expect(await refusal(uinfo(frank.client, grace.name))).toMatch(/^Only root may see another user's account/);
    expect(await uinfo(root, grace.name)).toMatchObject({ disk_quota: 1024 ** 4, has_access: true });
    expect((await uinfo(root, frank.name)).has_access).toBe(true);
  });
});
