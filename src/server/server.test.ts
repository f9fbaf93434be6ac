// The server over real HTTP on loopback with a real SQLite file, driven by a scripted worker:
// the whole run life cycle, guarded updates, uploads and their failure modes.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../common/http-client.js';
import {
  AcceptedResponse,
  Bundle,
  CheckinResponse,
  MessagesResponse,
  ResolveResponse,
  TokenResponse,
  Worksheet,
  WorkerInfo,
  WorksheetContents,
  routes,
} from '../protocol/index.js';
import { z } from 'zod';
import type { RunningServer } from './server.js';
import { startTestServer, type TestServer } from './test-server.js';
import { HANG_DEADLINE_MS, waitFor } from '../../test/support/wait-for.js';
import { checkinBody } from '../../test/support/checkin-body.js';

let testServer: TestServer;
let server: RunningServer;
let client: HttpClient;
/** Root's worker token: worker routes take no user session. */
let worker: HttpClient;
let worksheet: Worksheet;

beforeAll(async () => {
  testServer = await startTestServer({ workerTimeoutSeconds: 2 });
  ({ server, client, workerClient: worker } = testServer);
  worksheet = await client.json(routes.homeWorksheet(), Worksheet);
});

afterAll(async () => {
  await testServer.stop();
});

async function createDataset(name: string): Promise<Bundle> {
  return client.json(routes.createBundle(worksheet.uuid), Bundle, { json: { bundle_type: 'dataset', metadata: { name } } });
}

async function upload(uuid: string, body: Readable, filename: string, unpack: boolean): Promise<Bundle> {
  return client.json(routes.uploadContents(uuid, { unpack, filename }), Bundle, { method: 'PUT', body });
}

async function getBundle(uuid: string): Promise<Bundle> {
  return client.json(routes.bundle(uuid), Bundle);
}

async function waitForState(uuid: string, states: string[]): Promise<Bundle> {
  return waitFor(
    async () => {
      const bundle = await getBundle(uuid);
      return states.includes(bundle.state) ? bundle : undefined;
    },
    HANG_DEADLINE_MS,
    `bundle ${uuid} to reach ${states.join('/')}`,
  );
}

/** Waits until the scheduler has written a staged_status that contains `text`. */
async function waitForStagedStatus(uuid: string, text: string): Promise<string> {
  return waitFor(
    async () => {
      const status = String((await getBundle(uuid)).metadata.staged_status ?? '');
      return status.includes(text) ? status : undefined;
    },
    HANG_DEADLINE_MS,
    `staged_status of ${uuid} to mention '${text}'`,
  );
}


describe('login', () => {
  it('refuses a wrong password with a clear message', async () => {
    const anonymous = new HttpClient({ baseUrl: server.url });
    await expect(
      anonymous.json(routes.token(), TokenResponse, { json: { grant_type: 'password', username: 'codalab', password: 'nope' } }),
    ).rejects.toThrow(/Wrong user name or password/);
  });

  it('refuses requests without a token', async () => {
    await expect(new HttpClient({ baseUrl: server.url }).json(routes.homeWorksheet(), Worksheet)).rejects.toThrow(/Log in first/);
  });
});

describe('uploads', () => {
  it('stores a file and serves its exact bytes', async () => {
    const bundle = await createDataset('hello');
    const stored = await upload(bundle.uuid, Readable.from([Buffer.from('hi\nthere\n')]), 'hello.txt', false);
    expect(stored.state).toBe('ready');
    expect(stored.is_dir).toBe(false);
    const response = await client.send(routes.contentsBlob(bundle.uuid, ''));
    expect(await response.text()).toBe('hi\nthere\n');
    const tail = await client.send(`${routes.contentsBlob(bundle.uuid, '')}?tail=1`);
    expect(await tail.text()).toBe('there\n');
  });

  it('unpacks a tar.gz into a directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'cl-src-'));
    const { writeFile, mkdir } = await import('node:fs/promises');
    await mkdir(join(dir, 'sub'));
    await writeFile(join(dir, 'sub', 'a.txt'), 'A');
    const bundle = await createDataset('archive');
    const archive = Readable.from(tar.c({ cwd: dir, gzip: true }, ['sub']) as unknown as AsyncIterable<Buffer>);
    const stored = await upload(bundle.uuid, archive, 'data.tar.gz', true);
    expect(stored.is_dir).toBe(true);
    const response = await client.send(routes.contentsBlob(bundle.uuid, 'sub/a.txt'));
    expect(await response.text()).toBe('A');
    await rm(dir, { recursive: true, force: true });
  });

  it('rejects an archive with an entry outside the bundle and marks the bundle failed', async () => {
    const bundle = await createDataset('evil');
    const pack = new tar.Pack({ preservePaths: true, gzip: false });
    const header = new tar.Header({ path: '../escape.txt', type: 'File', size: 1, mode: 0o644, mtime: new Date() });
    const entry = new tar.ReadEntry(header);
    const gz = createGzip();
    const archive = Readable.from(pack as unknown as AsyncIterable<Buffer>).pipe(gz);
    pack.add(entry);
    entry.end(Buffer.from('x'));
    pack.end();
    await expect(upload(bundle.uuid, archive, 'evil.tar.gz', true)).rejects.toThrow(/points outside the bundle/);
    const after = await getBundle(bundle.uuid);
    expect(after.state).toBe('failed');
    expect(String(after.metadata.failure_message)).toMatch(/outside the bundle/);
  });
});

describe('specs', () => {
  it('resolves names, ^N and prefixes relative to the worksheet', async () => {
    const first = await createDataset('spec-a');
    const second = await createDataset('spec-a');
    const resolve = (spec: string) =>
      client.json(routes.resolveBundles(), ResolveResponse, { json: { worksheet: worksheet.uuid, specs: [spec] } });
    expect((await resolve('spec-a')).uuids).toEqual([second.uuid]);
    expect((await resolve('spec-a^2')).uuids).toEqual([first.uuid]);
    expect((await resolve('^1')).uuids).toEqual([second.uuid]);
    expect((await resolve(first.uuid.slice(0, 20))).uuids).toEqual([first.uuid]);
    const underscored = await createDataset('my_data');
    expect((await resolve('my_d%')).uuids).toEqual([underscored.uuid]);
    expect((await resolve('my_.*')).uuids).toEqual([underscored.uuid]);
    await expect(resolve('myxdata')).rejects.toThrow(/No bundle named/);
    await expect(resolve('no-such-bundle')).rejects.toThrow(/No bundle named 'no-such-bundle'/);
    await expect(resolve('a b')).rejects.toThrow(/Invalid bundle spec 'a b'/);
  });
});

describe('run life cycle with a scripted worker', () => {
  it('assigns, starts, uploads and finishes a run; stale reports change nothing', async () => {
    const data = await createDataset('input');
    await upload(data.uuid, Readable.from([Buffer.from('42\n')]), 'input.txt', false);
    const run = await client.json(routes.createBundle(worksheet.uuid), Bundle, {
      json: {
        bundle_type: 'run',
        command: 'cat in > out',
        metadata: { request_memory: 1024 ** 3 },
        dependencies: [{ child_path: 'in', parent_uuid: data.uuid, parent_path: '' }],
      },
    });
    expect(run.metadata.name).toBe('run-cat');

    // No worker yet: the run waits with a reason.
    const staged = await waitForState(run.uuid, ['staged']);
    expect(await waitForStagedStatus(staged.uuid, 'No worker')).toMatch(/No worker is connected/);

    await worker.json(routes.checkin('w1'), CheckinResponse, { json: checkinBody() });
    const { messages } = await worker.json(routes.messages('w1', 5), MessagesResponse);
    const message = messages.find((m) => m.type === 'run');
    expect(message?.type).toBe('run');
    if (message?.type !== 'run') throw new Error('no run message');
    // The parent's size comes along: the worker shows download progress against it.
    expect(message.run.dependencies).toEqual([{ child_path: 'in', parent_uuid: data.uuid, parent_path: '', data_size: 3 }]);
    expect(message.run.resources.memory).toBe(1024 ** 3);
    expect(message.run.resources.docker_image).toBe('codalab/default-cpu:latest');

    const refused = await worker.json(routes.startRun('w1', run.uuid), AcceptedResponse, {
      json: { assignment_id: 'not-the-assignment', hostname: 'h' },
    });
    expect(refused.accepted).toBe(false);
    const started = await worker.json(routes.startRun('w1', run.uuid), AcceptedResponse, {
      json: { assignment_id: message.assignment_id, hostname: 'h' },
    });
    expect(started.accepted).toBe(true);

    const report = { uuid: run.uuid, assignment_id: message.assignment_id, state: 'running' as const, progress: { run_status: 'Running' } };
    await worker.json(routes.checkin('w1'), CheckinResponse, { json: checkinBody({ runs: [report] }) });
    expect((await getBundle(run.uuid)).state).toBe('running');
    const stale = await worker.json(routes.checkin('w1'), CheckinResponse, {
      json: checkinBody({ runs: [{ ...report, assignment_id: 'old' }] }),
    });
    expect(stale.messages).toContainEqual(expect.objectContaining({ type: 'kill', uuid: run.uuid }));

    const dir = await mkdtemp(join(tmpdir(), 'cl-out-'));
    const { writeFile } = await import('node:fs/promises');
    await writeFile(join(dir, 'stdout'), 'done\n');
    await writeFile(join(dir, 'out'), '42\n');
    const results = Readable.from(tar.c({ cwd: dir }, ['.']) as unknown as AsyncIterable<Buffer>);
    const uploaded = await worker.json(routes.runContents('w1', run.uuid, message.assignment_id), AcceptedResponse, {
      method: 'PUT',
      body: results,
    });
    expect(uploaded.accepted).toBe(true);
    const finished = await worker.json(routes.finishRun('w1', run.uuid), AcceptedResponse, {
      json: { assignment_id: message.assignment_id, exitcode: 0, failure_message: null, killed: false, progress: { time: 1.5 } },
    });
    expect(finished.accepted).toBe(true);
    const ready = await getBundle(run.uuid);
    expect(ready.state).toBe('ready');
    expect(ready.metadata.time).toBe(1.5);
    expect(await (await client.send(routes.contentsBlob(run.uuid, 'out'))).text()).toBe('42\n');
    // A path through the dependency key resolves into the parent.
    expect(await (await client.send(routes.contentsBlob(run.uuid, 'in'))).text()).toBe('42\n');
    await rm(dir, { recursive: true, force: true });
  });

  it('fails a run whose parent failed, naming the parent', async () => {
    const broken = await createDataset('broken');
    await upload(broken.uuid, Readable.from([Buffer.from('not a tar')]), 'x.tar', true).catch(() => undefined);
    const run = await client.json(routes.createBundle(worksheet.uuid), Bundle, {
      json: { bundle_type: 'run', command: 'ls', metadata: {}, dependencies: [{ child_path: 'b', parent_uuid: broken.uuid, parent_path: '' }] },
    });
    const failed = await waitForState(run.uuid, ['failed']);
    expect(String(failed.metadata.failure_message)).toContain(`broken (${broken.uuid}) is failed`);
  });

  it('rejects duplicate dependency keys', async () => {
    const data = await createDataset('dup');
    await expect(
      client.json(routes.createBundle(worksheet.uuid), Bundle, {
        json: {
          bundle_type: 'run',
          command: 'ls',
          metadata: {},
          dependencies: [
            { child_path: 'k', parent_uuid: data.uuid, parent_path: '' },
            { child_path: 'k', parent_uuid: data.uuid, parent_path: 'x' },
          ],
        },
      }),
    ).rejects.toThrow(/Duplicate dependency key 'k'/);
  });

  it('marks runs of a silent worker worker_offline, and recovers them when it reports again', async () => {
    const run = await client.json(routes.createBundle(worksheet.uuid), Bundle, {
      json: { bundle_type: 'run', command: 'sleep 100', metadata: { request_queue: 'tag=offline-test' }, dependencies: [] },
    });
    await worker.json(routes.checkin('w2'), CheckinResponse, { json: checkinBody({ tag: 'offline-test' }) });
    const { messages } = await worker.json(routes.messages('w2', 5), MessagesResponse);
    const message = messages.find((m) => m.type === 'run' && m.run.uuid === run.uuid);
    if (message?.type !== 'run') throw new Error('no run message');
    await worker.json(routes.startRun('w2', run.uuid), AcceptedResponse, { json: { assignment_id: message.assignment_id, hostname: 'h' } });
    await waitForState(run.uuid, ['worker_offline']);
    const report = { uuid: run.uuid, assignment_id: message.assignment_id, state: 'running' as const, progress: {} };
    await worker.json(routes.checkin('w2'), CheckinResponse, { json: checkinBody({ tag: 'offline-test', runs: [report] }) });
    expect((await getBundle(run.uuid)).state).toBe('running');
  });

  it('flags a worker that reported GPUs and now reports none, and sends it no GPU run', async () => {
    await worker.json(routes.checkin('gpu-box'), CheckinResponse, { json: checkinBody({ tag: 'gpu-test', gpus: 2 }) });
    await worker.json(routes.checkin('gpu-box'), CheckinResponse, { json: checkinBody({ tag: 'gpu-test', gpus: 0 }) });
    const workers = (await client.json(routes.workersInfo(), z.array(WorkerInfo))).filter((w) => w.id === 'gpu-box');
    expect(workers[0]?.warning).toBe('reported 2 GPUs before, none now: no GPU runs are sent to it');
    const run = await client.json(routes.createBundle(worksheet.uuid), Bundle, {
      json: { bundle_type: 'run', command: 'nvidia-smi', metadata: { request_queue: 'gpu-test', request_gpus: 1 }, dependencies: [] },
    });
    const staged = await waitForState(run.uuid, ['staged']);
    expect(staged.state).toBe('staged');
    expect(await waitForStagedStatus(run.uuid, 'GPU')).toBe(
      'No worker can take this run: needs 1 GPU; largest worker has 0 (worker gpu-box reported GPUs before and now reports none).',
    );
    await client.send(routes.bundleActions(), { json: { type: 'kill', uuid: run.uuid } });
  });

  it('kills a staged run at once', async () => {
    const run = await client.json(routes.createBundle(worksheet.uuid), Bundle, {
      json: { bundle_type: 'run', command: 'true', metadata: { request_queue: 'nobody-serves-this' }, dependencies: [] },
    });
    await waitForState(run.uuid, ['staged']);
    await client.send(routes.bundleActions(), { json: { type: 'kill', uuid: run.uuid } });
    const killed = await getBundle(run.uuid);
    expect(killed.state).toBe('killed');
    expect(killed.metadata.actions).toEqual(['kill']);
    await expect(client.send(routes.bundleActions(), { json: { type: 'kill', uuid: run.uuid } })).rejects.toThrow(/already killed/);
  });

  it('lists the worksheet in order', async () => {
    const contents = await client.json(routes.worksheetContents(worksheet.uuid), WorksheetContents);
    expect(contents.bundles.length).toBeGreaterThan(5);
    expect(contents.worksheet.name).toBe('home-codalab');
  });
});
