// The wait route (`GET /rest/bundles/:uuid/wait`) over real HTTP: it answers as soon as the
// bundle is final (seen within its poll period, not the client's backing-off polls), answers with
// the unfinished bundle when its seconds are up, and refuses a bundle the caller may not read.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Bundle, BundleActionResponse, TokenResponse, UserAccount, Worksheet, routes } from '../protocol/index.js';
import { HttpClient } from '../common/http-client.js';
import { startTestServer, type TestServer } from './test-server.js';

let ts: TestServer;
let home: Worksheet;

/** A run on a queue no worker serves: it stays staged until killed. */
async function stagedRun(): Promise<Bundle> {
  return ts.client.json(routes.createBundle(home.uuid), Bundle, {
    json: { bundle_type: 'run', command: 'true', metadata: { request_queue: 'nobody-serves-this' }, dependencies: [] },
  });
}

beforeAll(async () => {
  ts = await startTestServer();
  home = await ts.client.json(routes.homeWorksheet(), Worksheet);
});

afterAll(async () => {
  await ts?.stop();
});

describe('waiting for a bundle on the server', () => {
  it('answers with the final bundle as soon as it ends', async () => {
    const run = await stagedRun();
    let answered = false;
    const waiting = ts.client.json(routes.waitBundle(run.uuid, 30), Bundle).finally(() => (answered = true));
    // Give the wait time to reach the server; it must still be held (the run is not final).
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(answered).toBe(false);
    await ts.client.json(routes.bundleActions(), BundleActionResponse, { json: { type: 'kill', uuid: run.uuid } });
    expect((await waiting).state).toBe('killed');
  });

  it('answers with the bundle as it is when its seconds are up', async () => {
    const run = await stagedRun();
    const answer = await ts.client.json(routes.waitBundle(run.uuid, 0.2), Bundle);
    expect(answer.uuid).toBe(run.uuid);
    expect(['created', 'staged']).toContain(answer.state);
  });

  it('refuses a bundle the caller may not read, and waits no longer than 60 seconds', async () => {
    const run = await stagedRun();
    await ts.client.json(routes.users(), UserAccount, { json: { user_name: 'eve', password: 'eve-password' } });
    const eve = new HttpClient({ baseUrl: ts.server.url });
    const login = { grant_type: 'password', username: 'eve', password: 'eve-password' };
    eve.token = (await eve.json(routes.token(), TokenResponse, { json: login })).access_token;
    await expect(eve.json(routes.waitBundle(run.uuid, 1), Bundle)).rejects.toThrow(/is private/);
    await expect(ts.client.json(routes.waitBundle(run.uuid, 61), Bundle)).rejects.toThrow(/seconds/);
  });
});
