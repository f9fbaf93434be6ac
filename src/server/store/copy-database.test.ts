// copy-database: an SQLite instance filled through the Store API reads back the same through
// PgStore after the copy, and a target that already holds data is refused.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresCluster } from '../../../test/support/postgres.js';
import { bundleRow } from '../../../test/support/store-factories.js';
import { copyDatabase } from './copy-database.js';
import { PgStore } from './pg-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

async function fill(store: Store): Promise<void> {
  await store.insertUser({ id: 'u1', user_name: 'alice', password_hash: 'h1', is_root: true, created: 1_780_000_000_000, email: 'a@x.org', last_login: 5 });
  await store.insertUser({ id: 'u2', user_name: 'bob', password_hash: 'h2', is_root: false, created: 1_780_000_000_001, email: null, last_login: null });
  await store.updateUserAccount('u2', { quotas: { disk: 10 ** 12, time: 3600.5, parallel_runs: 2 } });
  await store.addUserTimeUsed('u2', 12.5);
  await store.insertToken('t1', 'u1', 1_790_000_000_000, 'refresh');
  await store.insertWorksheet({ uuid: '0xws', name: 'home-alice', title: 'Home', owner_id: 'u1', created: 2 });
  await store.insertGroup({ uuid: '0xg', name: 'lab', owner_id: 'u1', created: 3 });
  await store.putGroupMember({ group_uuid: '0xg', user_id: 'u2', is_admin: false });
  await store.setGrant('worksheet', ['0xws'], '0xg', 1);
  await store.insertBundle(bundleRow('0xp', { bundle_type: 'dataset', command: null, state: 'ready', is_dir: true, metadata: { data_size: 2048 } }), [], '0xws');
  await store.insertBundle(bundleRow('0xr', { state: 'running', worker_owner_id: 'u1', worker_id: 'w', assignment_id: 'a1' }), [
    { child_path: 'z', parent_uuid: '0xp', parent_path: 'in' },
    { child_path: 'a', parent_uuid: '0xp', parent_path: '' },
  ], '0xws');
  await store.addWorksheetMarkup('0xws', 'notes');
  await store.upsertWorker({
    owner_id: 'u1', id: 'w', hostname: 'h', tag: 't', tag_exclusive: true, cpus: 8, gpus: 1, memory_bytes: 2 ** 36, free_disk_bytes: 2 ** 40,
    slots: 2, runs_left: null, cached_dependencies: ['0xp:'], docker_ok: true, docker_message: null, checkin_time: 1_780_000_000_002,
    group_uuid: '0xg', shared_file_system: true,
  });
}

/** Everything a store can tell about the filled instance. */
async function readAll(store: Store): Promise<unknown> {
  return {
    users: await store.listUsers(),
    token: await store.getToken('t1'),
    worksheet: await store.getWorksheetByUuid('0xws'),
    items: await store.listWorksheetItems('0xws'),
    bundles: await store.getBundles(['0xp', '0xr']).then((rows) => rows.sort((a, b) => a.uuid.localeCompare(b.uuid))),
    dependencies: await store.getDependencies(['0xr']),
    disk: await store.getUserDiskUsage('u1'),
    groups: await store.listGroups(null),
    members: await store.listGroupMembers('0xg'),
    grants: await store.getGrants('bundle', ['0xp', '0xr']),
    workers: await store.listWorkers(),
  };
}

describe('copy-database from SQLite to PostgreSQL', () => {
  let cluster: PostgresCluster;
  let dir: string;

  beforeAll(async () => {
    cluster = await startPostgres();
    dir = await mkdtemp(join(tmpdir(), 'cl-copy-'));
  });

  afterAll(async () => {
    await cluster?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('copies every row, keeps order and ids, and refuses a target that is not empty', async () => {
    const path = join(dir, 'codalab.sqlite');
    const sqlite = new SqliteStore(path);
    await sqlite.migrate();
    await fill(sqlite);
    const expected = await readAll(sqlite);
    await sqlite.close();

    const url = await cluster.createDatabase();
    const summary = await copyDatabase(path, url);
    expect(summary).toMatchObject({ users: 2, bundles: 2, bundle_dependencies: 2, worksheet_items: 3, groups: 1, workers: 1 });

    const pg = new PgStore(url);
    try {
      expect(await readAll(pg)).toEqual(expected);
      // Ids continue after the copied ones: a new item lands last.
      await pg.addWorksheetMarkup('0xws', 'after the copy');
      expect((await pg.listWorksheetItems('0xws')).map((i) => i.value)).toEqual([null, null, 'notes', 'after the copy']);
    } finally {
      await pg.close();
    }
    await expect(copyDatabase(path, url)).rejects.toThrow(
      'The target database is not empty (2 rows in users); copy into a new, empty database.',
    );
    await expect(copyDatabase(join(dir, 'missing.sqlite'), url)).rejects.toThrow(/^No SQLite database at .*missing.sqlite; name it with --from sqlite:PATH\.$/);
  });
});
