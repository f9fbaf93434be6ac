// Two servers in this process on one private PostgreSQL database (real HTTP, real LISTEN/NOTIFY),
// and a scripted worker: what one server does reaches the other at once, one of them schedules,
// and only a server of the database may forward requests to another's workers.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bundle, CheckinResponse, MessagesResponse, Worksheet, routes, type WorkerMessage } from '../../protocol/index.js';
import { checkinBody } from '../../../test/support/checkin-body.js';
import { startPostgres, type PostgresCluster } from '../../../test/support/postgres.js';
import { startTestServer, type TestServer } from '../test-server.js';
import { PEER_RELAY_PATH, PEER_SECRET_HEADER } from './peer-relay.js';

let postgres: PostgresCluster;
let storeDir: string;
let a: TestServer;
let b: TestServer;

beforeAll(async () => {
  postgres = await startPostgres();
  storeDir = await mkdtemp(join(tmpdir(), 'cl-shared-store-'));
  const databaseUrl = await postgres.createDatabase();
  a = await startTestServer({ databaseUrl, storeDir });
  b = await startTestServer({ databaseUrl, storeDir });
}, 120_000);

afterAll(async () => {
  try {
    await b?.stop();
    await a?.stop();
  } finally {
    // Whatever a failed stop left, the private cluster must not outlive the file.
    await postgres?.stop();
    await rm(storeDir, { recursive: true, force: true });
  }
});

async function newRun(server: TestServer, command: string): Promise<Bundle> {
  const worksheet = await server.client.json(routes.homeWorksheet(), Worksheet);
  return server.client.json(routes.createBundle(worksheet.uuid), Bundle, { json: { bundle_type: 'run', command, dependencies: [], metadata: {} } });
}

/** The poll's answer, or 'still waiting' when it has not answered after `ms`. */
function answerWithin(poll: Promise<{ messages: WorkerMessage[] }>, ms: number): Promise<{ messages: WorkerMessage[] } | 'still waiting'> {
  return Promise.race([poll, sleep(ms).then(() => 'still waiting' as const)]);
}

describe('two servers on one PostgreSQL database', () => {
  it("wakes a worker's long poll on one server when the other's scheduler places a run for it", async () => {
    await b.workerClient.json(routes.checkin('cluster-w1'), CheckinResponse, { json: checkinBody() });
    // The poll may wait 30 s; only the other server's word can end it early with the run.
    const poll = b.workerClient.json(routes.messages('cluster-w1', 30), MessagesResponse);
    await sleep(200);
    const run = await newRun(a, 'echo placed');
    const answer = await answerWithin(poll, 15_000);
    expect(answer).not.toBe('still waiting');
    const placed = answer === 'still waiting' ? [] : answer.messages;
    expect(placed).toContainEqual(expect.objectContaining({ type: 'run', run: expect.objectContaining({ uuid: run.uuid }) }));
  }, 60_000);

  it('refuses a forwarded request without the secret of the server it is sent to, even from a logged-in user', async () => {
    const body = JSON.stringify({
      owner_id: 'x', worker_id: 'cluster-w1', extra_wait_ms: 0,
      message: { type: 'read', request_id: 'r', uuid: `0x${'0'.repeat(32)}`, assignment_id: 'a', kind: 'info', path: '' },
    });
    const attempts: Record<string, string>[] = [
      {},
      { [PEER_SECRET_HEADER]: 'guessed' },
      { authorization: `Bearer ${b.client.token ?? ''}` },
    ];
    for (const headers of attempts) {
      const answer = await fetch(`${b.server.url}${PEER_RELAY_PATH}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body });
      expect(answer.status).toBe(403);
      expect(((await answer.json()) as { error: { code: string } }).error.code).toBe('forbidden');
    }
  });

  it('hands the scheduler lease to the other server when its holder stops', async () => {
    // A started first and holds the lease; once it stops, only B can place this run.
    await a.stopKeepingHome();
    await b.workerClient.json(routes.checkin('cluster-w2'), CheckinResponse, { json: checkinBody({ tag: 'after-handover' }) });
    const worksheet = await b.client.json(routes.homeWorksheet(), Worksheet);
    const run = await b.client.json(routes.createBundle(worksheet.uuid), Bundle, {
      json: { bundle_type: 'run', command: 'echo handed-over', dependencies: [], metadata: { request_queue: 'after-handover' } },
    });
    const poll = b.workerClient.json(routes.messages('cluster-w2', 30), MessagesResponse);
    const answer = await answerWithin(poll, 20_000);
    expect(answer === 'still waiting' ? [] : answer.messages).toContainEqual(
      expect.objectContaining({ type: 'run', run: expect.objectContaining({ uuid: run.uuid }) }),
    );
  }, 60_000);
});

describe('a lone server on SQLite', () => {
  it('has no peers: every forwarded request is refused', async () => {
    const lone = await startTestServer();
    try {
      const answer = await fetch(`${lone.server.url}${PEER_RELAY_PATH}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', [PEER_SECRET_HEADER]: '' },
        body: '{}',
      });
      expect(answer.status).toBe(403);
    } finally {
      await lone.stop();
    }
  });
});
