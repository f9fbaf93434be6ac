// Groups and permissions over real HTTP against a real server: what one user keeps private stays
// private on every read path (by uuid, prefix, name, search, worksheet listings, as a dependency),
// what they share through a group or public is readable and no more, and groups change only by
// their admins. Each refusal is checked together with what it must not reveal.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routes, groupRoutes, type Bundle, type WorksheetContents, type WorksheetItems } from '../../src/protocol/index.js';
import { startTestServer, type TestServer } from '../../src/server/test-server.js';
import { call, checkinBody, createUser, errorOf, login, type Answer } from './security-helpers.js';

let ts: TestServer;
let url: string;
let root: string;
let alice: string;
let bob: string;
let carol: string;
let aliceHome: { uuid: string; name: string };
let bobHome: { uuid: string; name: string };
let secret: Bundle;

const get = (token: string, path: string): Promise<Answer> => call(url, 'GET', path, { token });
const post = (token: string, path: string, json: unknown): Promise<Answer> => call(url, 'POST', path, { token, json });

async function upload(token: string, worksheet: string, name: string, text: string): Promise<Bundle> {
  const created = await post(token, routes.createBundle(worksheet), { bundle_type: 'dataset', metadata: { name } });
  expect(created.status).toBe(200);
  const bundle = created.body as Bundle;
  const stored = await call(url, 'PUT', `/rest/bundles/${bundle.uuid}/contents?filename=f.txt`, { token, bytes: Buffer.from(text) });
  expect(stored.status).toBe(200);
  return bundle;
}

async function search(token: string, keywords: string[]): Promise<{ bundles: Bundle[]; result: number | null }> {
  const answer = await post(token, '/rest/bundles/search', { keywords });
  expect(answer.status).toBe(200);
  return answer.body as { bundles: Bundle[]; result: number | null };
}

const resolve = (token: string, spec: string, worksheet?: string): Promise<Answer> =>
  post(token, routes.resolveBundles(), { specs: [spec], ...(worksheet ? { worksheet } : {}) });

/** A refusal that says the bundle is private and never shows its name or contents. */
function expectPrivate(answer: Answer): void {
  expect(answer.status).toBe(403);
  expect(errorOf(answer).message).toMatch(/is private/);
  expect(JSON.stringify(answer.body)).not.toMatch(/topsecret|classified/);
}

beforeAll(async () => {
  ts = await startTestServer();
  url = ts.server.url;
  root = ts.client.token ?? '';
  alice = (await createUser(url, root, 'alice')).token;
  bob = (await createUser(url, root, 'bob')).token;
  carol = (await createUser(url, root, 'carol')).token;
  aliceHome = (await get(alice, routes.homeWorksheet())).body as { uuid: string; name: string };
  bobHome = (await get(bob, routes.homeWorksheet())).body as { uuid: string; name: string };
  secret = await upload(alice, aliceHome.uuid, 'topsecret', 'classified');
});

afterAll(async () => {
  await ts?.stop();
});

describe('a private bundle', () => {
  it('is refused to another user by uuid: info, contents, download, follow, verbose info and children', async () => {
    for (const path of [
      routes.bundle(secret.uuid),
      routes.contentsInfo(secret.uuid, ''),
      routes.contentsBlob(secret.uuid, ''),
      `/rest/bundles/${secret.uuid}/follow`,
      `/rest/bundles/${secret.uuid}/verbose-info`,
      `/rest/bundles/${secret.uuid}/children`,
    ]) {
      expectPrivate(await get(bob, path));
    }
  });

  it('is readable by its owner and root', async () => {
    expect((await get(alice, routes.contentsBlob(secret.uuid, ''))).body).toBe('classified');
    expect((await get(root, routes.bundle(secret.uuid))).status).toBe(200);
  });

  it('is not found by prefix or name, so neither reveals that it exists', async () => {
    const prefix = await resolve(bob, secret.uuid.slice(0, 8));
    expect(prefix.status).toBe(404);
    expect(errorOf(prefix).message).toBe(`No bundle with a uuid starting with ${secret.uuid.slice(0, 8)}.`);
    const byName = await resolve(bob, 'topsecret', bobHome.uuid);
    expect(byName.status).toBe(404);
    expect(errorOf(byName).message).toBe("No bundle named 'topsecret'.");
    expect((await resolve(alice, secret.uuid.slice(0, 8))).status).toBe(200);
  });

  it('never appears in search, counts or sums of another user', async () => {
    expect((await search(bob, ['topsecret'])).bundles).toEqual([]);
    expect((await search(bob, [`=${secret.uuid}`])).bundles).toEqual([]);
    expect((await search(bob, ['name=topsecret', '.count'])).result).toBe(0);
    expect((await search(bob, ['owner=alice', 'data_size=.sum'])).result).toBe(0);
    expect((await search(alice, ['topsecret'])).bundles.map((b) => b.uuid)).toEqual([secret.uuid]);
  });

  it('cannot be a dependency of another user\'s run or make, and the refusal creates nothing', async () => {
    const before = (await search(root, ['.count'])).result;
    for (const bundle_type of ['run', 'make'] as const) {
      const answer = await post(bob, routes.createBundle(bobHome.uuid), {
        bundle_type,
        ...(bundle_type === 'run' ? { command: 'cat d/f.txt' } : {}),
        metadata: { name: 'thief' },
        dependencies: [{ child_path: 'd', parent_uuid: secret.uuid, parent_path: '' }],
      });
      expect(answer.status).toBe(403);
      expect(errorOf(answer).message).toMatch(/which is private: a run may only depend on bundles its owner can read/);
    }
    expect((await search(root, ['.count'])).result).toBe(before);
  });

  it("cannot be copied by another user's make of the whole bundle (the make target, key '')", async () => {
    const answer = await post(bob, routes.createBundle(bobHome.uuid), {
      bundle_type: 'make',
      metadata: { name: 'whole-copy' },
      dependencies: [{ child_path: '', parent_uuid: secret.uuid, parent_path: '' }],
    });
    expect(answer.status).toBe(403);
    expect(errorOf(answer).message).toBe(`The make target names bundle ${secret.uuid}, which is private: a run may only depend on bundles its owner can read.`);
  });

  it("is not reached by position on another user's private worksheet (^N)", async () => {
    const answer = await resolve(bob, '^1', aliceHome.uuid);
    expect(answer.status).toBe(403);
    expect(errorOf(answer).message).toMatch(/Worksheet 'home-alice' is private/);
  });

  it('cannot be edited, killed, deleted, shared or added to a worksheet by another user', async () => {
    expectPrivate(await call(url, 'PATCH', routes.bundle(secret.uuid), { token: bob, json: { metadata: { description: 'x' } } }));
    expectPrivate(await post(bob, routes.bundleActions(), { type: 'kill', uuid: secret.uuid }));
    expectPrivate(await post(bob, '/rest/bundles/delete', { uuids: [secret.uuid] }));
    expectPrivate(await post(bob, groupRoutes.bundlePermissions(), { uuids: [secret.uuid], group: 'public', permission: 'read' }));
    expectPrivate(await post(bob, `/rest/worksheets/${bobHome.uuid}/items`, { type: 'bundle', bundle_uuid: secret.uuid }));
    expect(((await get(alice, routes.bundle(secret.uuid))).body as Bundle).metadata.description).toBeUndefined();
  });
});

describe('a private worksheet', () => {
  it('is refused to another user by name and uuid, and left out of worksheet search', async () => {
    const byName = await get(bob, routes.worksheetBySpec(aliceHome.name));
    expect(byName.status).toBe(403);
    expect(errorOf(byName).message).toMatch(/is private/);
    expect((await get(bob, routes.worksheetContents(aliceHome.uuid))).status).toBe(403);
    expect((await get(bob, `/rest/worksheets/${aliceHome.uuid}/items`)).status).toBe(403);
    const prefix = await get(bob, routes.worksheetBySpec(aliceHome.uuid.slice(0, 10)));
    expect(prefix.status).toBe(404);
    const listed = (await post(bob, '/rest/worksheets/search', { keywords: ['home'] })).body as { worksheets: { name: string }[] };
    expect(listed.worksheets.map((w) => w.name)).toEqual(['home-bob']);
  });
});

describe('sharing through a group', () => {
  let groupUuid: string;

  it('lets a user make a group, add a member and give it read on a bundle', async () => {
    const made = await post(alice, groupRoutes.groups(), { name: 'lab' });
    expect(made.status).toBe(200);
    groupUuid = (made.body as { uuid: string }).uuid;
    expect((await call(url, 'PUT', groupRoutes.member('lab', 'bob'), { token: alice, json: {} })).status).toBe(200);
    const shared = await post(alice, groupRoutes.bundlePermissions(), { uuids: [secret.uuid], group: 'lab', permission: 'read' });
    expect(shared.status).toBe(200);
  });

  it('gives the member read and nothing more, and the outsider nothing', async () => {
    expect((await get(bob, routes.contentsBlob(secret.uuid, ''))).body).toBe('classified');
    expect((await resolve(bob, secret.uuid.slice(0, 8))).status).toBe(200);
    expect((await search(bob, ['.shared'])).bundles.map((b) => b.uuid)).toEqual([secret.uuid]);
    expect((await search(bob, ['group=lab'])).bundles.map((b) => b.uuid)).toEqual([secret.uuid]);
    const edit = await call(url, 'PATCH', routes.bundle(secret.uuid), { token: bob, json: { metadata: { description: 'x' } } });
    expect(edit.status).toBe(403);
    expect(errorOf(edit).message).toMatch(/needs 'all' permission, and you have 'read'/);
    expectPrivate(await get(carol, routes.bundle(secret.uuid)));
    const verbose = (await get(alice, `/rest/bundles/${secret.uuid}/verbose-info`)).body as { group_permissions: unknown[] };
    expect(verbose.group_permissions).toEqual([{ group_uuid: groupUuid, group_name: 'lab', permission: 'read' }]);
  });

  it('lets the member depend on the shared bundle', async () => {
    const answer = await post(bob, routes.createBundle(bobHome.uuid), {
      bundle_type: 'make',
      metadata: { name: 'copy' },
      dependencies: [{ child_path: 'd', parent_uuid: secret.uuid, parent_path: '' }],
    });
    expect(answer.status).toBe(200);
  });

  it('takes read away again with none', async () => {
    await post(alice, groupRoutes.bundlePermissions(), { uuids: [secret.uuid], group: 'lab', permission: 'none' });
    expectPrivate(await get(bob, routes.bundle(secret.uuid)));
  });

  it("matches a group's uuid prefix only for its members, so prefixes reveal no one else's groups", async () => {
    const prefix = groupUuid.slice(0, 8);
    const carolHome = ((await get(carol, routes.homeWorksheet())).body as { uuid: string }).uuid;
    const carols = await upload(carol, carolHome, 'carols', 'x');
    const byOutsider = await post(carol, groupRoutes.bundlePermissions(), { uuids: [carols.uuid], group: prefix, permission: 'read' });
    expect(byOutsider.status).toBe(404);
    expect(errorOf(byOutsider).message).toBe(`No group '${prefix}'; see your groups with 'cl gls'.`);
    expect((await get(alice, groupRoutes.group(prefix))).status).toBe(200);
  });

  it('changes members only by admins; a member may leave; public cannot change', async () => {
    const byMember = await call(url, 'PUT', groupRoutes.member('lab', 'carol'), { token: bob, json: {} });
    expect(byMember.status).toBe(403);
    expect(errorOf(byMember).message).toMatch(/only its admins may/);
    expect((await get(carol, groupRoutes.group('lab'))).status).toBe(403);
    expect((await call(url, 'DELETE', groupRoutes.group('lab'), { token: bob })).status).toBe(403);
    expect((await call(url, 'PUT', groupRoutes.member('public', 'carol'), { token: root, json: {} })).status).toBe(403);
    expect((await call(url, 'DELETE', groupRoutes.member('lab', 'alice'), { token: alice })).status).toBe(400);
    expect((await call(url, 'DELETE', groupRoutes.member('lab', 'bob'), { token: bob })).status).toBe(200);
    const info = (await get(alice, groupRoutes.group('lab'))).body as { members: { user_name: string }[] };
    expect(info.members.map((m) => m.user_name)).toEqual(['alice']);
  });
});

describe('a worker started with --group', () => {
  it("is refused unless its owner is in the group, and then listed for the group's members", async () => {
    await post(alice, groupRoutes.groups(), { name: 'crew' });
    const carolWorker = await login(url, 'carol', 'carol-password', 'codalab_worker_client');
    const refused = await post(carolWorker, routes.checkin('carol-box'), checkinBody({ group: 'crew' }));
    expect(refused.status).toBe(403);
    expect(errorOf(refused).message).toBe("This worker's --group 'crew' is not a group its owner 'carol' belongs to; see 'cl gls'.");
    expect(((await get(root, routes.workersInfo())).body as { id: string }[]).map((w) => w.id)).not.toContain('carol-box');

    await call(url, 'PUT', groupRoutes.member('crew', 'carol'), { token: alice, json: {} });
    expect((await post(carolWorker, routes.checkin('carol-box'), checkinBody({ group: 'crew' }))).status).toBe(200);
    const listed = async (token: string): Promise<string[]> => ((await get(token, routes.workersInfo())).body as { id: string }[]).map((w) => w.id);
    expect(await listed(alice)).toContain('carol-box');
    expect(await listed(bob)).not.toContain('carol-box');
  });
});

describe('a worksheet shared with a group', () => {
  it('shows its bundles the member may not read as placeholders, and gives its grants to bundles added later', async () => {
    const made = await post(alice, '/rest/worksheets', { name: 'shared-exp' });
    const sheet = made.body as { uuid: string };
    const hidden = await upload(alice, aliceHome.uuid, 'hidden', 'classified');
    await post(alice, `/rest/worksheets/${sheet.uuid}/items`, { type: 'bundle', bundle_uuid: hidden.uuid });
    await post(alice, groupRoutes.worksheetPermissions(), { worksheet: sheet.uuid, group: 'public', permission: 'read' });
    const visible = await upload(alice, sheet.uuid, 'visible', 'for everyone');

    const contents = (await get(carol, routes.worksheetContents(sheet.uuid))).body as WorksheetContents;
    expect(contents.bundles).toEqual([{ uuid: hidden.uuid, private: true }, expect.objectContaining({ uuid: visible.uuid })]);
    const items = (await get(carol, `/rest/worksheets/${sheet.uuid}/items`)).body as WorksheetItems;
    expect(items.items.map((i) => i.type)).toEqual(['private_bundle', 'bundle']);
    expect(JSON.stringify(items)).not.toMatch(/hidden|classified/);
    expect((await get(carol, routes.contentsBlob(visible.uuid, ''))).body).toBe('for everyone');
    // Read on the worksheet is not all: carol may not add to it.
    const add = await post(carol, routes.createBundle(sheet.uuid), { bundle_type: 'dataset', metadata: { name: 'x' } });
    expect(add.status).toBe(403);
  });
});

describe('a shared run with a private parent', () => {
  it('does not open the parent through its dependency path', async () => {
    const run = await post(alice, routes.createBundle(aliceHome.uuid), {
      bundle_type: 'run',
      command: 'cat d/f.txt',
      metadata: { name: 'reader', request_queue: 'nowhere' },
      dependencies: [{ child_path: 'd', parent_uuid: secret.uuid, parent_path: '' }],
    });
    const runUuid = (run.body as Bundle).uuid;
    await post(alice, groupRoutes.bundlePermissions(), { uuids: [runUuid], group: 'public', permission: 'read' });
    expect((await get(carol, routes.bundle(runUuid))).status).toBe(200);
    const info = (await get(carol, routes.bundle(runUuid))).body as Bundle;
    expect(info.dependencies[0]).toMatchObject({ parent_uuid: secret.uuid, parent_name: null, parent_state: null });
    expectPrivate(await get(carol, routes.contentsBlob(runUuid, 'd/f.txt')));
    expectPrivate(await get(carol, routes.contentsInfo(runUuid, 'd')));
  });
});

describe('deleting a user', () => {
  it('is refused while they own a group, naming it among what they own', async () => {
    const dave = (await createUser(url, root, 'dave')).token;
    expect((await post(dave, groupRoutes.groups(), { name: 'daves' })).status).toBe(200);
    const refused = await call(url, 'DELETE', routes.userByName('dave'), { token: root });
    expect(refused.status).toBe(409);
    expect(errorOf(refused).message).toBe("User 'dave' still owns 1 group: delete them or give them away first.");
    expect((await call(url, 'DELETE', groupRoutes.group('daves'), { token: dave })).status).toBe(200);
    expect((await call(url, 'DELETE', routes.userByName('dave'), { token: root })).status).toBe(200);
  });
});

describe('chown', () => {
  it('is root only, and gives the new owner all', async () => {
    const byAlice = await post(alice, groupRoutes.bundleOwner(), { uuids: [secret.uuid], user_name: 'bob' });
    expect(byAlice.status).toBe(403);
    expect((await post(root, groupRoutes.bundleOwner(), { uuids: [secret.uuid], user_name: 'bob' })).status).toBe(200);
    expect(((await get(bob, routes.bundle(secret.uuid))).body as Bundle).owner_name).toBe('bob');
    expectPrivate(await get(alice, routes.bundle(secret.uuid)));
  });
});
