// The Store conformance suite. Every implementation runs it through its factory: SQLite in a temp
// file and PostgreSQL on a throwaway database (test/support/store-factories.ts).
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { bundleRow as bundle, storeFactories } from '../../../test/support/store-factories.js';
import { PUBLIC_GROUP_UUID } from './access-store.js';
import type { Store } from './store.js';

for (const factory of storeFactories()) {
  describe(`Store on ${factory.name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeAll(() => factory.setup());
    afterAll(() => factory.teardown());

    beforeEach(async () => {
      ({ store, cleanup } = await factory.create());
      await store.migrate();
      await store.insertUser({ id: 'u1', user_name: 'alice', password_hash: 'x', is_root: false, created: 1, email: null, last_login: null });
      await store.insertWorksheet({ uuid: '0xws', name: 'home-alice', title: null, owner_id: 'u1', created: 1 });
    });

    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    it('applies migrations once', async () => {
      await store.migrate();
      expect(await store.getUserByName('alice')).toMatchObject({ id: 'u1', is_root: false });
    });

    it('inserts a bundle with its dependencies and worksheet item', async () => {
      await store.insertBundle(bundle('0xb1'), [{ child_path: 'k', parent_uuid: '0xp', parent_path: 'x' }], '0xws');
      expect(await store.listWorksheetBundleUuids('0xws')).toEqual(['0xb1']);
      expect(await store.getDependencies(['0xb1'])).toEqual([
        { child_uuid: '0xb1', child_path: 'k', parent_uuid: '0xp', parent_path: 'x' },
      ]);
    });

    it('merges metadata and keeps explicit nulls', async () => {
      await store.insertBundle(bundle('0xb1', { metadata: { name: 'r', staged_status: 'waiting' } }), [], null);
      await store.updateBundle('0xb1', { last_updated: 2, metadata: { staged_status: null, time: 3 } });
      const [row] = await store.getBundles(['0xb1']);
      expect(row?.metadata).toEqual({ name: 'r', staged_status: null, time: 3 });
    });

    it('applies a guarded update only when the guard holds', async () => {
      await store.insertBundle(bundle('0xb1', { state: 'running', assignment_id: 'a1', worker_owner_id: 'u1', worker_id: 'w' }), [], null);
      expect(await store.updateBundle('0xb1', { state: 'ready', last_updated: 2 }, { assignment_id: 'stale' })).toBe(false);
      expect(await store.updateBundle('0xb1', { state: 'ready', last_updated: 2 }, { states: ['staged'] })).toBe(false);
      expect(await store.updateBundle('0xb1', { state: 'ready', last_updated: 2 }, { worker: { owner_id: 'u1', id: 'other' } })).toBe(false);
      expect(
        await store.updateBundle('0xb1', { state: 'ready', last_updated: 2 }, { states: ['running'], assignment_id: 'a1', worker: { owner_id: 'u1', id: 'w' } }),
      ).toBe(true);
      expect((await store.getBundles(['0xb1']))[0]?.state).toBe('ready');
    });

    it('keeps when a bundle entered its state: set on a change of state, kept by other updates', async () => {
      await store.insertBundle(bundle('0xb1'), [], null);
      expect((await store.getBundles(['0xb1']))[0]?.state_since).toBe(1000);
      await store.updateBundle('0xb1', { state: 'running', last_updated: 2000 });
      await store.updateBundle('0xb1', { state: 'running', last_updated: 3000, metadata: { time: 1 } });
      await store.updateBundle('0xb1', { last_updated: 4000, metadata: { time: 2 } });
      expect((await store.getBundles(['0xb1']))[0]).toMatchObject({ state_since: 2000, last_updated: 4000 });
    });

    it('finds bundles by uuid prefix and by name pattern, newest first', async () => {
      await store.insertBundle(bundle('0xab1', { name: 'data_1' }), [], null);
      await store.insertBundle(bundle('0xab2', { name: 'data-2' }), [], null);
      expect((await store.findBundlesByUuidPrefix('0xab', 5, null)).map((b) => b.uuid)).toEqual(['0xab2', '0xab1']);
      expect((await store.findBundlesByName('data%', 5, null)).map((b) => b.uuid)).toEqual(['0xab2', '0xab1']);
      // `_` is escaped by callers; here it must match only a literal underscore.
      expect((await store.findBundlesByName('data\\_1', 5, null)).map((b) => b.uuid)).toEqual(['0xab1']);
    });

    it('upserts workers and lists the runs each holds', async () => {
      const worker = {
        owner_id: 'u1', id: 'w', hostname: 'h', tag: null, tag_exclusive: false, cpus: 2, gpus: 0, memory_bytes: 1,
        free_disk_bytes: 1, slots: 1, runs_left: null, cached_dependencies: ['0xp:'], docker_ok: true, docker_message: null, checkin_time: 5,
      };
      await store.upsertWorker(worker);
      await store.upsertWorker({ ...worker, cpus: 4 });
      await store.touchWorker('u1', 'w', 9);
      expect(await store.getWorker('u1', 'w')).toMatchObject({ cpus: 4, checkin_time: 9, cached_dependencies: ['0xp:'] });
      await store.insertBundle(bundle('0xb1', { state: 'running', worker_owner_id: 'u1', worker_id: 'w' }), [], null);
      expect((await store.listBundlesOfWorker('u1', 'w', ['running'])).map((b) => b.uuid)).toEqual(['0xb1']);
    });

    it('stores tokens with their expiry and drops expired ones', async () => {
      await store.insertToken('h1', 'u1', 100, 'access');
      await store.insertToken('h2', 'u1', 300, 'refresh');
      await store.deleteTokensExpiredBefore(200);
      expect(await store.getToken('h1')).toBeUndefined();
      expect(await store.getToken('h2')).toEqual({ user_id: 'u1', expires_at: 300, kind: 'refresh' });
    });

    it('finds a token with its user in one lookup', async () => {
      await store.insertToken('h1', 'u1', 100, 'access');
      const found = await store.getTokenWithUser('h1');
      expect(found?.token).toEqual({ user_id: 'u1', expires_at: 100, kind: 'access' });
      expect(found?.user).toEqual((await store.getUsersByIds(['u1']))[0]);
      expect(await store.getTokenWithUser('nope')).toBeUndefined();
    });

    it('revokes one token, or all of a user', async () => {
      await store.insertToken('h1', 'u1', 100, 'access');
      await store.insertToken('h2', 'u1', 300, 'refresh');
      expect(await store.deleteToken('h1')).toBe(true);
      expect(await store.deleteToken('h1')).toBe(false);
      await store.deleteTokensOfUser('u1');
      expect(await store.getToken('h2')).toBeUndefined();
    });

    it('keeps groups and grants: levels through public and groups, copies to new bundles, cascades on delete', async () => {
      await store.insertUser({ id: 'u2', user_name: 'bob', password_hash: 'x', is_root: false, created: 2, email: null, last_login: null });
      await store.insertGroup({ uuid: '0xg1', name: 'lab', owner_id: 'u1', created: 5 });
      expect(await store.listGroupMembers('0xg1')).toEqual([{ group_uuid: '0xg1', user_id: 'u1', is_admin: true }]);
      await store.putGroupMember({ group_uuid: '0xg1', user_id: 'u2', is_admin: false });
      expect(await store.listGroupUuidsOf('u2')).toEqual(['0xg1']);
      await store.insertBundle(bundle('0xb1'), [], '0xws');
      expect(await store.grantedLevels('bundle', 'u2', ['0xb1'])).toEqual(new Map());
      await store.setGrant('bundle', ['0xb1'], '0xg1', 1);
      await store.setGrant('bundle', ['0xb1'], PUBLIC_GROUP_UUID, 2);
      expect(await store.grantedLevels('bundle', 'u2', ['0xb1'])).toEqual(new Map([['0xb1', 2]]));
      expect((await store.getGrants('bundle', ['0xb1'])).get('0xb1')?.map((g) => [g.group_name, g.permission])).toEqual([['lab', 1], ['public', 2]]);
      await store.setGrant('bundle', ['0xb1'], PUBLIC_GROUP_UUID, 0);
      expect(await store.grantedLevels('bundle', 'u2', ['0xb1'])).toEqual(new Map([['0xb1', 1]]));
      expect(await store.findBundlesByUuidPrefix('0xb', 5, 'u2')).toHaveLength(1);
      expect(await store.findBundlesByUuidPrefix('0xb', 5, 'nobody')).toHaveLength(0);
      // A bundle added to a worksheet later gets the worksheet's grants at that moment.
      await store.setGrant('worksheet', ['0xws'], '0xg1', 2);
      await store.insertBundle(bundle('0xb2'), [], '0xws');
      expect(await store.grantedLevels('bundle', 'u2', ['0xb2'])).toEqual(new Map([['0xb2', 2]]));
      await store.deleteBundles(['0xb2']);
      expect(await store.getGrants('bundle', ['0xb2'])).toEqual(new Map());
      await store.deleteGroup('0xg1');
      expect(await store.grantedLevels('bundle', 'u2', ['0xb1'])).toEqual(new Map());
      expect(await store.listGroupUuidsOf('u2')).toEqual([]);
    });

    it('keeps email, password and last login, and deletes a user only when they own nothing', async () => {
      await store.insertUser({ id: 'u2', user_name: 'bob', password_hash: 'x', is_root: false, created: 2, email: 'b@x.org', last_login: null });
      await store.setUserPassword('u2', 'y');
      await store.setUserLastLogin('u2', 7);
      expect((await store.listUsers()).map((u) => [u.user_name, u.email, u.password_hash, u.last_login])).toEqual([
        ['alice', null, 'x', null],
        ['bob', 'b@x.org', 'y', 7],
      ]);
      await store.insertWorksheet({ uuid: '0xw2', name: 'bob-home', title: null, owner_id: 'u2', created: 3 });
      await store.insertToken('hb', 'u2', 300, 'refresh');
      expect(await store.deleteUserIfOwnsNothing('u1')).toMatchObject({ bundles: 0 });
      await store.insertBundle(bundle('0xb9', { owner_id: 'u2' }), [], '0xw2');
      expect(await store.deleteUserIfOwnsNothing('u2')).toEqual({ bundles: 1, worksheets: 1, workers: 0, groups: 0 });
      expect(await store.getUserByName('bob')).toBeDefined();
      await store.deleteBundles(['0xb9']);
      expect(await store.deleteUserIfOwnsNothing('u2')).toEqual({ bundles: 0, worksheets: 0, workers: 0, groups: 0 });
      expect(await store.getUserByName('bob')).toBeUndefined();
      expect(await store.getWorksheetByUuid('0xw2')).toBeUndefined();
      expect(await store.getToken('hb')).toBeUndefined();
    });
  });
}
