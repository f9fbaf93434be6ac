// The Store implementations the conformance suites run against, each behind one factory (bullmq's
// pattern): SQLite in a temp file, PostgreSQL as a fresh database on a private cluster that the
// test file starts in beforeAll (`setup`) and stops in afterAll (`teardown`).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PgStore } from '../../src/server/store/pg-store.js';
import { SqliteStore } from '../../src/server/store/sqlite-store.js';
import type { NewBundleRow, Store } from '../../src/server/store/store.js';
import { startPostgres, type PostgresCluster } from './postgres.js';

export interface StoreFactory {
  name: string;
  setup(): Promise<void>;
  /** A new, unmigrated store of its own. */
  create(): Promise<{ store: Store; cleanup(): Promise<void> }>;
  teardown(): Promise<void>;
}

function sqliteFactory(): StoreFactory {
  return {
    name: 'sqlite',
    setup: async () => {},
    create: async () => {
      const dir = await mkdtemp(join(tmpdir(), 'cl-store-'));
      const store = new SqliteStore(join(dir, 'db.sqlite'));
      return { store, cleanup: () => rm(dir, { recursive: true, force: true }) };
    },
    teardown: async () => {},
  };
}

function postgresFactory(): StoreFactory {
  let cluster: PostgresCluster | undefined;
  return {
    name: 'postgres',
    setup: async () => {
      cluster = await startPostgres();
    },
    create: async () => {
      if (cluster === undefined) throw new Error('The PostgreSQL cluster did not start; see the error of beforeAll.');
      return { store: new PgStore(await cluster.createDatabase()), cleanup: async () => {} };
    },
    teardown: async () => {
      await cluster?.stop();
    },
  };
}

/** One factory per engine, fresh for each test file. */
export function storeFactories(): StoreFactory[] {
  return [sqliteFactory(), postgresFactory()];
}

/** A run bundle of user u1 in state created, with the given changes. */
export function bundleRow(uuid: string, overrides: Partial<NewBundleRow> = {}): NewBundleRow {
  return {
    uuid,
    bundle_type: 'run',
    command: 'true',
    state: 'created',
    owner_id: 'u1',
    is_dir: null,
    created: 1000,
    last_updated: 1000,
    metadata: { name: 'r' },
    name: 'r',
    worker_owner_id: null,
    worker_id: null,
    assignment_id: null,
    kill_requested: false,
    ...overrides,
  };
}
