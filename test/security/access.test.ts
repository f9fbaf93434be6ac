// Attacks of one user on another's things, each made for real over HTTP on loopback against a
// real server (and, for ports of a running bundle, a real worker and container): writes to a
// worksheet of someone else, a fake worker, and password guessing. Each test checks the refusal
// and that nothing changed.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes, type Bundle, type WorksheetContents, type WorksheetItems } from '../../src/protocol/index.js';
import { startTestServer, type TestServer } from '../../src/server/test-server.js';
import { call, createUser, errorOf } from './security-helpers.js';

describe("another user's worksheet", () => {
  let ts: TestServer;
  let url: string;
  let root: string;
  let alice: string;
  let bob: string;
  let aliceSheet: { uuid: string; name: string };
  let aliceData: Bundle;

  const contents = async (): Promise<WorksheetContents> =>
    (await call(url, 'GET', routes.worksheetContents(aliceSheet.uuid), { token: alice })).body as WorksheetContents;
  const items = async (): Promise<WorksheetItems> =>
    (await call(url, 'GET', `/rest/worksheets/${aliceSheet.uuid}/items`, { token: alice })).body as WorksheetItems;
  const bundleCount = async (): Promise<number> =>
    ((await call(url, 'POST', '/rest/bundles/search', { token: root, json: { keywords: ['.count'] } })).body as { result: number }).result;

  beforeAll(async () => {
    ts = await startTestServer();
    url = ts.server.url;
    root = ts.client.token ?? '';
    alice = (await createUser(url, root, 'alice')).token;
    bob = (await createUser(url, root, 'bob')).token;
    aliceSheet = (await call(url, 'GET', routes.homeWorksheet(), { token: alice })).body as { uuid: string; name: string };
    await call(url, 'GET', routes.homeWorksheet(), { token: bob });
    const created = await call(url, 'POST', routes.createBundle(aliceSheet.uuid), { token: alice, json: { bundle_type: 'dataset', metadata: { name: 'data' } } });
    aliceData = created.body as Bundle;
    const uploaded = await call(url, 'PUT', `/rest/bundles/${aliceData.uuid}/contents?filename=a.txt`, { token: alice, bytes: Buffer.from('hello') });
    expect(uploaded.status).toBe(200);
  });

  afterAll(async () => {
    await ts?.stop();
  });

  const attempts: Array<[string, () => unknown]> = [
    ['an upload', () => ({ bundle_type: 'dataset', metadata: { name: 'planted' } })],
    ['a run', () => ({ bundle_type: 'run', command: 'echo planted', metadata: { name: 'planted-run' }, dependencies: [] })],
    ['a make (and so a mimic, which creates through the same route)', () => ({
      bundle_type: 'make',
      metadata: { name: 'planted-make' },
      dependencies: [{ child_path: 'a', parent_uuid: aliceData.uuid, parent_path: '' }],
    })],
  ];

  for (const [what, body] of attempts) {
    it(`refuses ${what} created onto it, and creates nothing`, async () => {
      const before = await contents();
      const count = await bundleCount();
      const answer = await call(url, 'POST', routes.createBundle(aliceSheet.uuid), { token: bob, json: body() });
      expect(answer.status).toBe(403);
      expect(errorOf(answer).code).toBe('forbidden');
      expect(errorOf(answer).message).toContain(`worksheet '${aliceSheet.name}': it belongs to another user`);
      expect(await contents()).toEqual(before);
      expect(await bundleCount()).toBe(count);
    });
  }

  it('lets its owner and root create bundles on it', async () => {
    const own = await call(url, 'POST', routes.createBundle(aliceSheet.uuid), { token: alice, json: { bundle_type: 'dataset', metadata: { name: 'mine' } } });
    expect(own.status).toBe(200);
    const byRoot = await call(url, 'POST', routes.createBundle(aliceSheet.uuid), { token: root, json: { bundle_type: 'dataset', metadata: { name: 'roots' } } });
    expect(byRoot.status).toBe(200);
    const names = (await contents()).bundles.map((b) => b.metadata.name);
    expect(names).toEqual(expect.arrayContaining(['mine', 'roots']));
  });

  it('refuses uploading contents into its owner\'s new dataset', async () => {
    const fresh = (await call(url, 'POST', routes.createBundle(aliceSheet.uuid), { token: alice, json: { bundle_type: 'dataset', metadata: { name: 'empty' } } })).body as Bundle;
    const answer = await call(url, 'PUT', `/rest/bundles/${fresh.uuid}/contents?filename=x.txt`, { token: bob, bytes: Buffer.from('planted') });
    expect(answer.status).toBe(403);
    const after = (await call(url, 'GET', routes.bundle(fresh.uuid), { token: alice })).body as Bundle;
    expect(after.state).toBe('uploading');
  });

  it('refuses adding items (bundles and text), detaching, and deleting the worksheet', async () => {
    const before = await items();
    const bobSheet = (await call(url, 'GET', routes.homeWorksheet(), { token: bob })).body as { uuid: string };
    const mine = (await call(url, 'POST', routes.createBundle(bobSheet.uuid), { token: bob, json: { bundle_type: 'dataset', metadata: { name: 'bobs' } } })).body as Bundle;
    const add = await call(url, 'POST', `/rest/worksheets/${aliceSheet.uuid}/items`, { token: bob, json: { type: 'bundle', bundle_uuid: mine.uuid } });
    const text = await call(url, 'POST', `/rest/worksheets/${aliceSheet.uuid}/items`, { token: bob, json: { type: 'markup', value: 'planted' } });
    const detach = await call(url, 'DELETE', `/rest/worksheets/${aliceSheet.uuid}/items/${aliceData.uuid}`, { token: bob });
    const wrm = await call(url, 'DELETE', `/rest/worksheets/${aliceSheet.uuid}?force=1`, { token: bob });
    for (const answer of [add, text, detach, wrm]) {
      expect(answer.status).toBe(403);
      expect(errorOf(answer).message).toContain('it belongs to another user');
    }
    expect(await items()).toEqual(before);
  });

  it("refuses creating a worksheet under another user's home name", async () => {
    const squat = await call(url, 'POST', '/rest/worksheets', { token: bob, json: { name: 'home-dave' } });
    expect(squat.status).toBe(403);
    expect(errorOf(squat).message).toContain("'home-'");
    const found = await call(url, 'GET', '/rest/worksheets?spec=home-dave', { token: root });
    expect(found.status).toBe(404);
  });

  it("refuses editing and deleting the owner's bundles", async () => {
    const edit = await call(url, 'PATCH', routes.bundle(aliceData.uuid), { token: bob, json: { metadata: { name: 'renamed' } } });
    const remove = await call(url, 'POST', '/rest/bundles/delete', { token: bob, json: { uuids: [aliceData.uuid], force: true } });
    expect(edit.status).toBe(403);
    expect(remove.status).toBe(403);
    const after = (await call(url, 'GET', routes.bundle(aliceData.uuid), { token: alice })).body as Bundle;
    expect(after).toMatchObject({ state: 'ready', metadata: { name: 'data' } });
  });
});
