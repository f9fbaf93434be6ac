// The worker's token renewal against the real server (in-process, on loopback, real SQLite), on a
// fake clock that the test moves past each access token's expiry.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../server/test-server.js';
import { checkinBody } from '../../test/support/checkin-body.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { WorkerServerApi } from './server-api.js';

let ts: TestServer | undefined;

afterEach(async () => {
  await ts?.stop();
  ts = undefined;
});

function tokenCounts(home: string): Record<string, number> {
  const db = new Database(join(home, 'db.sqlite'), { readonly: true });
  try {
    const rows = db.prepare('SELECT kind, COUNT(*) AS n FROM tokens GROUP BY kind').all() as { kind: string; n: number }[];
    return Object.fromEntries(rows.map((r) => [r.kind, r.n]));
  } finally {
    db.close();
  }
}

describe('the worker across access-token expiry', () => {
  it('renews through its refresh token, once for calls that meet the expiry together', async () => {
    const clock = new FakeClock();
    ts = await startTestServer({ tokenTtlSeconds: 60 }, { clock });
    const api = new WorkerServerApi({ serverUrl: ts.server.url, username: 'codalab', password: 'secret-root', workerId: 'renewing' });
    await api.login();
    const before = tokenCounts(ts.home);
    for (let round = 0; round < 3; round += 1) {
      clock.advance(61_000);
      await Promise.all(Array.from({ length: 4 }, () => api.checkin(checkinBody())));
    }
    const after = tokenCounts(ts.home);
    // No new refresh token however often it renewed, and one access token per expiry, not per call.
    expect(after.worker_refresh).toBe(before.worker_refresh);
    expect((after.worker_access ?? 0) - (before.worker_access ?? 0)).toBe(3);
    // Worker tokens only: the worker holds no user session.
    expect((after.access ?? 0) - (before.access ?? 0)).toBe(0);
  });

  it('logs in with its password again when the refresh token is no longer accepted', async () => {
    const clock = new FakeClock();
    ts = await startTestServer({ tokenTtlSeconds: 60, refreshTokenTtlSeconds: 120 }, { clock });
    const api = new WorkerServerApi({ serverUrl: ts.server.url, username: 'codalab', password: 'secret-root', workerId: 'relogin' });
    await api.login();
    clock.advance(121_000);
    await expect(api.checkin(checkinBody())).resolves.toMatchObject({ messages: expect.any(Object) });
  });
});
