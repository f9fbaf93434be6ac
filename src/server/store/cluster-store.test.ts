// The Store conformance suite for servers sharing a database (cluster-store.ts): the servers
// table, the scheduler lease and where each worker's poll rests, on every engine.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { storeFactories } from '../../../test/support/store-factories.js';
import type { Store, WorkerRow } from './store.js';

const T0 = 1_780_000_000_000;
const worker: WorkerRow = {
  owner_id: 'u1', id: 'w', hostname: 'h', tag: null, tag_exclusive: false, cpus: 2, gpus: 0, memory_bytes: 2 ** 30,
  free_disk_bytes: 2 ** 31, slots: 1, runs_left: null, cached_dependencies: [], docker_ok: true, docker_message: null,
  checkin_time: T0,
};

for (const factory of storeFactories()) {
  describe(`Store on ${factory.name}: several servers`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;

    beforeAll(() => factory.setup());
    afterAll(() => factory.teardown());

    beforeEach(async () => {
      ({ store, cleanup } = await factory.create());
      await store.migrate();
      await store.insertUser({ id: 'u1', user_name: 'alice', password_hash: 'x', is_root: false, created: 1, email: null, last_login: null });
    });

    afterEach(async () => {
      await store.close();
      await cleanup();
    });

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
      await store.upsertWorker({ ...worker, server_url: 'http://a:1' });
      expect((await store.getWorker('u1', 'w'))?.server_url).toBe('http://a:1');
      await store.touchWorker('u1', 'w', T0 + 1, 'http://b:1');
      expect(await store.getWorker('u1', 'w')).toMatchObject({ server_url: 'http://b:1', checkin_time: T0 + 1 });
      await store.touchWorker('u1', 'w', T0 + 2);
      await store.upsertWorker({ ...worker, checkin_time: T0 + 3 });
      expect(await store.getWorker('u1', 'w')).toMatchObject({ server_url: 'http://b:1', checkin_time: T0 + 3 });
    });
  });
}
