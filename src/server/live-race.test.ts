// A read of a running bundle that races the end of its run: the worker finishes the run (uploads
// and reports its end) and only then answers the relayed read with `conflict`, as a worker that
// dropped the run does. The server must serve the read from its store, not pass on the 409.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { HttpClient } from '../common/http-client.js';
import {
  AcceptedResponse,
  Bundle,
  CheckinResponse,
  LIVE_REPLY_HEADER,
  liveRoutes,
  MessagesResponse,
  Worksheet,
  routes,
  type WorkerCheckin,
} from '../protocol/index.js';
import { startTestServer, type TestServer } from './test-server.js';

let testServer: TestServer;
let client: HttpClient;
let worker: HttpClient;

beforeAll(async () => {
  testServer = await startTestServer();
  ({ client, workerClient: worker } = testServer);
});

afterAll(async () => {
  await testServer.stop();
});

function checkin(runs: WorkerCheckin['runs']): WorkerCheckin {
  return {
    protocol_version: 1, hostname: 'race-host', tag: null, tag_exclusive: false, cpus: 2, gpus: 0,
    memory_bytes: 8 * 1024 ** 3, free_disk_bytes: 100 * 1024 ** 3, slots: 2, runs_left: null,
    cached_dependencies: [], runs, docker_ok: true, docker_message: null,
  };
}

async function nextMessage(type: string): Promise<MessagesResponse['messages'][number]> {
  for (let i = 0; i < 50; i += 1) {
    const { messages } = await worker.json(routes.messages('w-race', 2), MessagesResponse);
    const found = messages.find((m) => m.type === type);
    if (found) return found;
  }
  throw new Error(`no ${type} message`);
}

it('serves a read from the store when the worker dropped the run just before it', async () => {
  const worksheet = await client.json(routes.homeWorksheet(), Worksheet);
  const run = await client.json(routes.createBundle(worksheet.uuid), Bundle, {
    json: { bundle_type: 'run', command: 'echo 42 > out', metadata: { request_memory: 1024 ** 3 }, dependencies: [] },
  });
  await worker.json(routes.checkin('w-race'), CheckinResponse, { json: checkin([]) });
  const message = await nextMessage('run');
  if (message.type !== 'run') throw new Error('no run message');
  const assignment = message.assignment_id;
  await worker.json(routes.startRun('w-race', run.uuid), AcceptedResponse, { json: { assignment_id: assignment, hostname: 'h' } });
  const report = { uuid: run.uuid, assignment_id: assignment, state: 'running' as const, progress: { run_status: 'Running' } };
  await worker.json(routes.checkin('w-race'), CheckinResponse, { json: checkin([report]) });

  const read = client.send(routes.contentsBlob(run.uuid, 'out')).then((r) => r.text());
  const relayed = await nextMessage('read');
  if (relayed.type !== 'read') throw new Error('no read message');

  // The run ends on the worker before the read is served: results uploaded, end accepted.
  const dir = await mkdtemp(join(tmpdir(), 'cl-race-out-'));
  await writeFile(join(dir, 'out'), '42\n');
  const results = Readable.from(tar.c({ cwd: dir }, ['.']) as unknown as AsyncIterable<Buffer>);
  await worker.json(routes.runContents('w-race', run.uuid, assignment), AcceptedResponse, { method: 'PUT', body: results });
  await worker.json(routes.finishRun('w-race', run.uuid), AcceptedResponse, {
    json: { assignment_id: assignment, exitcode: 0, failure_message: null, killed: false, progress: {} },
  });
  const header = { ok: false, error: { code: 'conflict', message: `Bundle ${run.uuid} is no longer running on this worker.` } };
  await worker.send(liveRoutes.reply('w-race', relayed.request_id), {
    method: 'PUT',
    body: Readable.from([]),
    headers: { [LIVE_REPLY_HEADER]: JSON.stringify(header) },
  });

  expect(await read).toBe('42\n');
  await rm(dir, { recursive: true, force: true });
});
