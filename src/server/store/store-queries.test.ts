// The Store conformance suite, second part: accounts, worksheets, searches, groups and the rest of
// the methods store.test.ts does not reach, on every engine (test/support/store-factories.ts).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bundleRow as bundle, storeFactories } from '../../../test/support/store-factories.js';
import type { BundleQuery } from './bundle-query.js';
import type { Store, WorkerRow } from './store.js';

const alice = { id: 'u1', user_name: 'alice', password_hash: 'x', is_root: false, created: 1, email: null, last_login: null };
const bob = { id: 'u2', user_name: 'bob', password_hash: 'x', is_root: false, created: 2, email: null, last_login: null };

function query(overrides: Partial<BundleQuery>): BundleQuery {
  return { conditions: [], sort: [], limit: null, offset: 0, aggregate: null, ...overrides };
}

const T0 = 1_780_000_000_000;

const worker: WorkerRow = {
  owner_id: 'u1', id: 'w', hostname: 'h', tag: null, tag_exclusive: false, cpus: 2, gpus: 2, memory_bytes: 2 ** 40,
  free_disk_bytes: 2 ** 41, slots: 1, runs_left: 3, cached_dependencies: [], docker_ok: true, docker_message: null,
  checkin_time: 1_780_000_000_000,
};

for (const factory of storeFactories()) {
  describe(`Store on ${factory.name}: queries`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeAll(() => factory.setup());
    afterAll(() => factory.teardown());

    beforeEach(async () => {
      ({ store, cleanup } = await factory.create());
      await store.migrate();
      await store.insertUser(alice);
      await store.insertUser(bob);
      await store.insertWorksheet({ uuid: '0xws', name: 'home-alice', title: 'Home', owner_id: 'u1', created: 1 });
    });

    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    it('rejects a second user or worksheet with a taken name', async () => {
      await expect(store.insertUser({ ...bob, id: 'u3' })).rejects.toThrow();
      await expect(store.insertWorksheet({ uuid: '0xw2', name: 'home-alice', title: null, owner_id: 'u2', created: 2 })).rejects.toThrow();
      await expect(store.insertBundle(bundle('0xb1'), [], null).then(() => store.insertBundle(bundle('0xb1'), [], null))).rejects.toThrow();
    });

    it('keeps quotas, access, time used and disk used; deactivating revokes tokens', async () => {
      await store.updateUserAccount('u2', { quotas: { disk: 5_000_000_000_000, time: 1.5 } });
      await store.addUserTimeUsed('u2', 2.25);
      await store.addUserTimeUsed('u2', 1);
      await store.insertToken('t', 'u2', 10, 'access');
      await store.updateUserAccount('u2', { is_active: false, quotas: { parallel_runs: 2 } });
      const [row] = await store.getUsersByIds(['u2']);
      expect(row).toMatchObject({ is_active: false, time_used: 3.25, quotas: { disk: 5_000_000_000_000, time: 1.5, parallel_runs: 2 } });
      expect(await store.getToken('t')).toBeUndefined();
      expect((await store.getUsersByIds(['u1', 'u2', 'nobody'])).map((u) => u.id).sort()).toEqual(['u1', 'u2']);
      expect(await store.getUsersByIds([])).toEqual([]);
      await store.insertBundle(bundle('0xb1', { metadata: { data_size: 3_000_000_000_000 } }), [], null);
      await store.insertBundle(bundle('0xb2', { metadata: { data_size: 'big' } }), [], null);
      await store.insertBundle(bundle('0xb3'), [], null);
      await store.updateBundle('0xb3', { last_updated: 2, metadata: { data_size: 0.5 } });
      expect(await store.getUserDiskUsage('u1')).toEqual({ bundles: 3, disk_used: 3_000_000_000_000.5 });
      expect(await store.getUserDiskUsage('u2')).toEqual({ bundles: 0, disk_used: 0 });
    });

    it('finds worksheets by name, uuid prefix and pattern, and lists their items in order', async () => {
      await store.insertWorksheet({ uuid: '0xw2', name: 'b-sheet', title: null, owner_id: 'u2', created: 2 });
      expect(await store.getWorksheetByName('home-alice')).toEqual({ uuid: '0xws', name: 'home-alice', title: 'Home', owner_id: 'u1', created: 1 });
      expect((await store.findWorksheetsByUuidPrefix('0xw', 5, null)).map((w) => w.uuid)).toEqual(['0xws', '0xw2']);
      expect((await store.findWorksheetsByUuidPrefix('0xw', 5, 'u2')).map((w) => w.uuid)).toEqual(['0xw2']);
      expect((await store.listWorksheets(null, null, 10, 0, null)).map((w) => w.name)).toEqual(['b-sheet', 'home-alice']);
      expect((await store.listWorksheets('%SHEET%', null, 10, 0, null)).map((w) => w.name)).toEqual(['b-sheet']);
      expect((await store.listWorksheets(null, 'u1', 10, 0, 'u1')).map((w) => w.name)).toEqual(['home-alice']);
      expect((await store.listWorksheets(null, null, 1, 1, null)).map((w) => w.name)).toEqual(['home-alice']);
      await store.insertBundle(bundle('0xb1'), [], null);
      await store.addWorksheetItem('0xws', '0xb1');
      await store.addWorksheetMarkup('0xws', '# notes');
      await store.addWorksheetItem('0xws', '0xb1');
      await store.addWorksheetItem('0xws', '0xgone');
      const items = await store.listWorksheetItems('0xws');
      expect(items.map((i) => [i.item_type, i.bundle_uuid, i.value])).toEqual([
        ['bundle', '0xb1', null], ['markup', '', '# notes'], ['bundle', '0xb1', null],
      ]);
      expect(typeof items[0]?.id).toBe('number');
      expect(await store.getHostWorksheets(['0xb1', '0xnone'])).toEqual(new Map([['0xb1', ['0xws']]]));
      expect(await store.removeWorksheetBundleItems('0xws', '0xb1', 1)).toBe(1);
      expect((await store.listWorksheetItems('0xws')).map((i) => i.item_type)).toEqual(['bundle', 'markup']);
      expect(await store.removeWorksheetBundleItems('0xws', '0xb1', null)).toBe(1);
      expect(await store.removeWorksheetBundleItems('0xws', '0xb1', null)).toBe(0);
      await store.deleteWorksheet('0xws');
      expect(await store.getWorksheetByUuid('0xws')).toBeUndefined();
      expect(await store.getHostWorksheets(['0xb1'])).toEqual(new Map());
    });

    it('lists bundles by state, command and dependents, newest first where it says so', async () => {
      await store.insertBundle(bundle('0xp', { bundle_type: 'dataset', command: null, state: 'ready' }), [], null);
      await store.insertBundle(bundle('0xc1', { state: 'staged' }), [{ child_path: 'a', parent_uuid: '0xp', parent_path: '' }], null);
      await store.insertBundle(bundle('0xc2', { state: 'running' }), [
        { child_path: 'z', parent_uuid: '0xp', parent_path: 'x' },
        { child_path: 'b', parent_uuid: '0xc1', parent_path: '' },
      ], null);
      expect((await store.listBundlesInStates(['staged', 'running'])).map((b) => b.uuid)).toEqual(['0xc1', '0xc2']);
      expect((await store.findBundlesByCommand('u1', 'true', 5)).map((b) => b.uuid)).toEqual(['0xc2', '0xc1']);
      expect((await store.findBundlesByCommand('u1', 'true', 1)).map((b) => b.uuid)).toEqual(['0xc2']);
      expect((await store.getDependents(['0xp'])).map((d) => d.child_uuid)).toEqual(['0xc1', '0xc2']);
      expect((await store.getDependencies(['0xc2'])).map((d) => d.child_path)).toEqual(['z', 'b']);
      const [parent] = await store.getBundles(['0xp']);
      expect(parent).toMatchObject({ bundle_type: 'dataset', command: null, is_dir: null, kill_requested: false, created: 1000 });
      await store.updateBundle('0xc2', { last_updated: 1_780_000_000_000, is_dir: true, kill_requested: true, name: 'n2' });
      expect((await store.getBundles(['0xc2']))[0]).toMatchObject({ is_dir: true, kill_requested: true, name: 'n2', last_updated: 1_780_000_000_000 });
    });

    it('searches: conditions, sorts, limits and aggregates', async () => {
      await store.insertWorksheet({ uuid: '0xw2', name: 'other', title: null, owner_id: 'u2', created: 2 });
      await store.insertBundle(bundle('0xa1', { name: 'alpha', created: 100, metadata: { size: 10, tag: 'x' } }), [], '0xws');
      await store.insertBundle(bundle('0xa2', { name: 'Beta', created: 200, state: 'ready', metadata: { size: 9 } }), [], null);
      await store.insertBundle(bundle('0xa3', { name: 'gamma', created: 300, owner_id: 'u2', metadata: { size: 'n/a' } }), [
        { child_path: 'd', parent_uuid: '0xa1', parent_path: '' },
      ], '0xw2');
      const uuids = async (q: Partial<BundleQuery>): Promise<string[]> => (await store.searchBundles(query(q))).rows.map((b) => b.uuid);
      expect(await uuids({})).toEqual(['0xa3', '0xa2', '0xa1']);
      expect(await uuids({ conditions: [{ kind: 'text', text: 'BET' }] })).toEqual(['0xa2']);
      expect(await uuids({ conditions: [{ kind: 'match', field: { kind: 'column', column: 'name' }, values: ['gam%', 'alpha'] }] })).toEqual(['0xa3', '0xa1']);
      expect(await uuids({ conditions: [{ kind: 'match', field: { kind: 'metadata', key: 'size' }, values: ['9'] }] })).toEqual(['0xa2']);
      expect(await uuids({ conditions: [{ kind: 'any_value', value: 'x' }] })).toEqual(['0xa1']);
      expect(await uuids({ conditions: [{ kind: 'owner_name', names: ['bob'] }] })).toEqual(['0xa3']);
      expect(await uuids({ conditions: [{ kind: 'dependency', parent_uuid: '0xa', child_path: 'd' }] })).toEqual(['0xa3']);
      expect(await uuids({ conditions: [{ kind: 'host_worksheet', worksheet_uuid: '0xws' }] })).toEqual(['0xa1']);
      expect(await uuids({ conditions: [{ kind: 'floating' }] })).toEqual(['0xa2']);
      expect(await uuids({ conditions: [{ kind: 'created', after: 150, before: 300 }] })).toEqual(['0xa3', '0xa2']);
      expect(await uuids({ conditions: [{ kind: 'states', states: ['ready'] }] })).toEqual(['0xa2']);
      expect(await uuids({ conditions: [{ kind: 'readable_by', user_id: 'u2' }] })).toEqual(['0xa3']);
      await store.insertGroup({ uuid: '0xg', name: 'lab', owner_id: 'u2', created: 3 });
      await store.setGrant('bundle', ['0xa1'], '0xg', 1);
      expect(await uuids({ conditions: [{ kind: 'group_readable', group_uuid: '0xg' }] })).toEqual(['0xa1']);
      expect(await uuids({ conditions: [{ kind: 'shared_with', user_id: 'u2' }] })).toEqual(['0xa1']);
      const size = { kind: 'metadata', key: 'size' } as const;
      expect(await uuids({ sort: [{ field: size, descending: false, numeric: true }] })).toEqual(['0xa3', '0xa2', '0xa1']);
      expect(await uuids({ sort: [{ field: { kind: 'column', column: 'name' }, descending: false, numeric: false }] })).toEqual(['0xa2', '0xa1', '0xa3']);
      expect(await uuids({ sort: [{ field: { kind: 'metadata', key: 'tag' }, descending: true, numeric: false }] })).toEqual(['0xa1', '0xa3', '0xa2']);
      expect(await uuids({ limit: 1, offset: 1 })).toEqual(['0xa2']);
      expect(await store.searchBundles(query({ aggregate: { kind: 'count' } }))).toEqual({ rows: [], result: 3 });
      expect(await store.searchBundles(query({ aggregate: { kind: 'sum', field: size } }))).toEqual({ rows: [], result: 19 });
    });

    it('lists workers with their numbers intact and keeps the most GPUs seen', async () => {
      await store.upsertWorker({ ...worker, group_uuid: null, shared_file_system: true });
      await store.upsertWorker({ ...worker, id: 'a', gpus: 0 });
      await store.upsertWorker({ ...worker, gpus: 0, shared_file_system: true });
      const listed = await store.listWorkers();
      expect(listed.map((w) => w.id)).toEqual(['a', 'w']);
      expect(listed[1]).toEqual({ ...worker, gpus: 0, gpus_seen: 2, group_uuid: null, shared_file_system: true, server_url: null });
      expect(await store.getWorker('u1', 'nobody')).toBeUndefined();
    });

    it('gives the check-in times of the workers asked for, and of no others', async () => {
      await store.upsertWorker({ ...worker, id: 'a', checkin_time: T0 + 1 });
      await store.upsertWorker({ ...worker, id: 'b', checkin_time: T0 + 2 });
      await store.upsertWorker({ ...worker, owner_id: 'u2', id: 'a', checkin_time: T0 + 3 });
      const asked = [
        { owner_id: 'u1', id: 'a' },
        { owner_id: 'u2', id: 'a' },
        { owner_id: 'u1', id: 'gone' },
        { owner_id: 'u2', id: 'b' },
      ];
      const times = await store.getWorkerCheckinTimes(asked);
      expect(times.sort((x, y) => x.checkin_time - y.checkin_time)).toEqual([
        { owner_id: 'u1', id: 'a', checkin_time: T0 + 1 },
        { owner_id: 'u2', id: 'a', checkin_time: T0 + 3 },
      ]);
      expect(await store.getWorkerCheckinTimes([])).toEqual([]);
    });

    it('finds, lists and changes groups and their members; gives bundles to another owner', async () => {
      await store.insertGroup({ uuid: '0xg2', name: 'zoo', owner_id: 'u1', created: 4 });
      await store.insertGroup({ uuid: '0xg1', name: 'lab', owner_id: 'u2', created: 5 });
      await expect(store.insertGroup({ uuid: '0xg3', name: 'lab', owner_id: 'u1', created: 6 })).rejects.toThrow();
      expect((await store.getGroups(['0xg1', '0xnone'])).map((g) => g.name)).toEqual(['lab']);
      expect(await store.getGroupByName('zoo')).toEqual({ uuid: '0xg2', name: 'zoo', owner_id: 'u1', created: 4 });
      expect((await store.findGroupsByUuidPrefix('0xg', 5)).map((g) => g.uuid)).toEqual(['0xg1', '0xg2']);
      expect((await store.listGroups(null)).map((g) => g.name)).toEqual(['lab', 'zoo']);
      expect((await store.listGroups('u1')).map((g) => g.name)).toEqual(['zoo']);
      await store.putGroupMember({ group_uuid: '0xg1', user_id: 'u1', is_admin: false });
      await store.putGroupMember({ group_uuid: '0xg1', user_id: 'u1', is_admin: true });
      expect((await store.listGroupMembers('0xg1')).map((m) => [m.user_id, m.is_admin])).toEqual([['u1', true], ['u2', true]]);
      expect(await store.removeGroupMember('0xg1', 'u1')).toBe(true);
      expect(await store.removeGroupMember('0xg1', 'u1')).toBe(false);
      await store.setGrant('worksheet', ['0xws'], '0xg1', 1);
      expect(await store.grantedLevels('worksheet', 'u2', ['0xws'])).toEqual(new Map([['0xws', 1]]));
      await store.insertBundle(bundle('0xb1'), [], null);
      await store.setBundleOwner(['0xb1'], 'u2');
      expect((await store.getBundles(['0xb1']))[0]?.owner_id).toBe('u2');
    });

    it('writes the waiting reasons of staged runs in one go, leaving runs no longer staged alone', async () => {
      await store.insertBundle(bundle('0xs1', { state: 'staged', metadata: { name: 'a', staged_status: 'old' } }), [], null);
      await store.insertBundle(bundle('0xs2', { state: 'staged', metadata: { name: 'b' } }), [], null);
      await store.insertBundle(bundle('0xs3', { state: 'starting', metadata: { name: 'c' } }), [], null);
      await store.setStagedStatuses(new Map([['0xs1', 'No worker'], ['0xs2', 'Too big'], ['0xs3', 'Late']]), 42);
      await store.setStagedStatuses(new Map(), 43);
      const rows = new Map((await store.getBundles(['0xs1', '0xs2', '0xs3'])).map((r) => [r.uuid, r]));
      expect(rows.get('0xs1')).toMatchObject({ last_updated: 42, metadata: { name: 'a', staged_status: 'No worker' } });
      expect(rows.get('0xs2')).toMatchObject({ last_updated: 42, metadata: { name: 'b', staged_status: 'Too big' } });
      expect(rows.get('0xs3')?.metadata.staged_status).toBeUndefined();
      expect(rows.get('0xs3')?.last_updated).not.toBe(42);
    });

    // Several servers on one database (cluster-store.ts).
    it('lists, refreshes and removes servers by their URL', async () => {
      await store.cluster.putServer({ url: 'http://a:1', secret: 's1', heartbeat_time: T0 });
      await store.cluster.putServer({ url: 'http://a:1', secret: 's2', heartbeat_time: T0 + 5 });
      expect(await store.cluster.getServer('http://a:1')).toEqual({ url: 'http://a:1', secret: 's2', heartbeat_time: T0 + 5 });
      expect(await store.cluster.getServer('http://b:1')).toBeUndefined();
      await store.cluster.removeServer('http://a:1');
      expect(await store.cluster.getServer('http://a:1')).toBeUndefined();
    });

    it('gives a lease to one holder until it expires, renews it for its holder, and frees it when released', async () => {
      const c = store.cluster;
      expect(await c.takeLease('scheduler', 'A', T0, T0 + 10)).toBe(true);
      expect(await c.takeLease('scheduler', 'B', T0 + 1, T0 + 11)).toBe(false);
      // A renewal moves the expiry on, so B still waits past the first expiry.
      expect(await c.takeLease('scheduler', 'A', T0 + 5, T0 + 15)).toBe(true);
      expect(await c.takeLease('scheduler', 'B', T0 + 12, T0 + 22)).toBe(false);
      // Unrenewed, it passes to the next to ask.
      expect(await c.takeLease('scheduler', 'B', T0 + 16, T0 + 26)).toBe(true);
      expect(await c.takeLease('scheduler', 'A', T0 + 17, T0 + 27)).toBe(false);
      // Releasing is the holder's alone; then anyone takes it at once.
      await c.releaseLease('scheduler', 'A');
      expect(await c.takeLease('scheduler', 'A', T0 + 18, T0 + 28)).toBe(false);
      await c.releaseLease('scheduler', 'B');
      expect(await c.takeLease('scheduler', 'A', T0 + 19, T0 + 29)).toBe(true);
      // Leases of other names are apart.
      expect(await c.takeLease('other', 'B', T0 + 19, T0 + 29)).toBe(true);
    });

    it('records the server a worker talks to, and keeps it when a touch or check-in names none', async () => {
      await store.upsertWorker({ ...worker, checkin_time: T0, server_url: 'http://a:1' });
      expect((await store.getWorker('u1', 'w'))?.server_url).toBe('http://a:1');
      await store.touchWorker('u1', 'w', T0 + 1, 'http://b:1');
      expect(await store.getWorker('u1', 'w')).toMatchObject({ server_url: 'http://b:1', checkin_time: T0 + 1 });
      await store.touchWorker('u1', 'w', T0 + 2);
      await store.upsertWorker({ ...worker, checkin_time: T0 + 3 });
      expect(await store.getWorker('u1', 'w')).toMatchObject({ server_url: 'http://b:1', checkin_time: T0 + 3 });
    });
  });
}
