// End-to-end on PostgreSQL: cl-server started with --database-url postgres://… on a private
// cluster, one worker, and `cl upload` + `cl run` with the upload as a dependency, as a user would.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres, type PostgresCluster } from '../support/postgres.js';
import { Cluster, DEFAULT_IMAGE } from './harness.js';

let postgres: PostgresCluster;
let cluster: Cluster;

beforeAll(async () => {
  postgres = await startPostgres();
  cluster = new Cluster();
  await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE, '--database-url', await postgres.createDatabase()]);
  cluster.startWorker({ id: 'e2e-postgres' });
  const work = await cluster.cl(['work', `${cluster.url}::`]);
  expect(work, cluster.describeLogs()).toMatchObject({ code: 0 });
});

afterAll(async () => {
  await cluster?.stop();
  await postgres?.stop();
});

describe('cl-server on PostgreSQL', () => {
  it('uploads a file and runs with it as a dependency', async () => {
    writeFileSync(join(cluster.root, 'words.txt'), 'pear\napple\n');
    const data = await cluster.clOk(['upload', 'words.txt'], { cwd: cluster.root });
    const run = await cluster.clOk(['run', 'in:words.txt', 'sort in > sorted.txt', '-n', 'sorter']);
    expect((await cluster.cl(['wait', run], { timeoutMs: 120_000 })).code, cluster.describeLogs()).toBe(0);
    expect(await cluster.clOk(['cat', `${run}/sorted.txt`])).toBe('apple\npear');
    expect(await cluster.clOk(['info', '-f', 'name,state', data])).toBe('words.txt\tready');
    expect(await cluster.clOk(['search', 'name=sorter', '-u'])).toBe(run);
    // All of it lives in PostgreSQL: the home holds no SQLite file.
    expect(existsSync(join(cluster.serverHome, 'codalab.sqlite'))).toBe(false);
  }, 150_000);
});
