// Worker tokens against the real server (in-process, loopback, real SQLite): which kind of token
// each route takes, what a refresh token buys, and which account changes end worker tokens.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_CLIENT_ID, routes, type TokenResponse } from '../protocol/index.js';
import { checkinBody } from '../../test/support/checkin-body.js';
import { startTestServer, type TestServer } from './test-server.js';

let ts: TestServer;

beforeAll(async () => {
  ts = await startTestServer();
});

afterAll(async () => {
  await ts.stop();
});

interface Answer {
  status: number;
  body: { error?: { code: string; message: string } } & Record<string, unknown>;
}

async function call(method: string, path: string, token?: string, json?: unknown): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  if (json !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${ts.server.url}${path}`, { method, headers, body: json === undefined ? null : JSON.stringify(json) });
  return { status: response.status, body: (await response.json()) as Answer['body'] };
}

async function tokens(username: string, password: string, clientId?: string): Promise<TokenResponse> {
  const answer = await call('POST', routes.token(), undefined, { grant_type: 'password', username, password, client_id: clientId });
  expect(answer.status, JSON.stringify(answer.body)).toBe(200);
  return answer.body as unknown as TokenResponse;
}

async function newUser(name: string): Promise<string> {
  const password = `${name}-password`;
  expect((await call('POST', routes.users(), ts.client.token, { user_name: name, password })).status).toBe(200);
  return password;
}

/** A worker route with no side effect: 404 (no such dependency) while the token is good, 401 once it is not. */
const probeWorkerToken = (token: string) => call('GET', routes.dependencyBlob('probe', `0x${'0'.repeat(32)}`, ''), token);

const USER_ON_WORKER_ROUTE = "Worker routes need a worker token: this is a user session's token.";
const WORKER_ON_USER_ROUTE = 'This is a worker token; it is accepted only on worker routes.';

describe('worker tokens', () => {
  it('are issued to codalab_worker_client and refused on user routes; user tokens are refused on worker routes', async () => {
    const password = await newUser('wt-alice');
    const user = await tokens('wt-alice', password);
    const worker = await tokens('wt-alice', password, WORKER_CLIENT_ID);

    const asUser = await call('GET', routes.user(), worker.access_token);
    expect(asUser).toMatchObject({ status: 403, body: { error: { code: 'forbidden', message: WORKER_ON_USER_ROUTE } } });
    expect((await call('GET', routes.workersInfo(), worker.access_token)).status).toBe(403);
    const asWorker = await call('POST', routes.checkin('w'), user.access_token, checkinBody());
    expect(asWorker).toMatchObject({ status: 403, body: { error: { code: 'forbidden', message: USER_ON_WORKER_ROUTE } } });
    // `cl workers` is a user's route.
    expect((await call('GET', routes.workersInfo(), user.access_token)).status).toBe(200);
    expect((await call('POST', routes.checkin('w'), worker.access_token, checkinBody())).status).toBe(200);

    const unknown = await call('POST', routes.token(), undefined, { grant_type: 'password', username: 'wt-alice', password, client_id: 'other' });
    expect(unknown).toMatchObject({ status: 400, body: { error: { message: expect.stringMatching(/^Unknown client_id 'other'/) } } });
  });

  it('refresh only into their own kind: a worker refresh token buys worker access tokens, a user one user tokens', async () => {
    const password = await newUser('wt-bob');
    const user = await tokens('wt-bob', password);
    const worker = await tokens('wt-bob', password, WORKER_CLIENT_ID);
    const refresh = (token: string | undefined, clientId?: string) =>
      call('POST', routes.token(), undefined, { grant_type: 'refresh_token', refresh_token: token, client_id: clientId });

    expect((await refresh(worker.refresh_token)).status).toBe(401);
    expect((await refresh(user.refresh_token, WORKER_CLIENT_ID)).status).toBe(401);
    const renewed = await refresh(worker.refresh_token, WORKER_CLIENT_ID);
    expect(renewed.status).toBe(200);
    const access = String(renewed.body.access_token);
    expect((await probeWorkerToken(access)).status).toBe(404);
    expect((await call('GET', routes.user(), access)).status).toBe(403);
  });

  it('end with revocation, a password change, removed access and the deletion of their user', async () => {
    const password = await newUser('wt-carol');
    const revoked = await tokens('wt-carol', password, WORKER_CLIENT_ID);
    expect((await call('POST', routes.revoke(), undefined, { token: revoked.access_token })).status).toBe(200);
    expect((await probeWorkerToken(revoked.access_token)).status).toBe(401);

    const beforeChange = await tokens('wt-carol', password, WORKER_CLIENT_ID);
    const changed = await call('POST', routes.userPassword('wt-carol'), ts.client.token, { new_password: 'wt-carol-new-password' });
    expect(changed.status, JSON.stringify(changed.body)).toBe(200);
    expect((await probeWorkerToken(beforeChange.access_token)).status).toBe(401);

    const beforeRemoval = await tokens('wt-carol', 'wt-carol-new-password', WORKER_CLIENT_ID);
    expect((await call('PATCH', routes.userInfo('wt-carol'), ts.client.token, { has_access: false })).status).toBe(200);
    expect((await probeWorkerToken(beforeRemoval.access_token)).status).toBe(401);
    expect((await call('PATCH', routes.userInfo('wt-carol'), ts.client.token, { has_access: true })).status).toBe(200);

    const beforeDeletion = await tokens('wt-carol', 'wt-carol-new-password', WORKER_CLIENT_ID);
    const deleted = await call('DELETE', routes.userByName('wt-carol'), ts.client.token);
    expect(deleted.status, JSON.stringify(deleted.body)).toBe(200);
    expect((await probeWorkerToken(beforeDeletion.access_token)).status).toBe(401);
  });
});
