// The private PostgreSQL of the store tests: found where Debian installs it, a clear failure (never
// a skip) where it is missing, and a cluster that takes connections and is gone after stop().
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { findPostgresBin, startPostgres } from './postgres.js';

describe('the tests\' private PostgreSQL', () => {
  it('fails with the fix when the server binaries are missing', async () => {
    const empty = await mkdtemp(join(tmpdir(), 'cl-no-pg-'));
    try {
      expect(() => findPostgresBin(empty)).toThrow(
        `PostgreSQL server binaries not found (${empty}/*/bin/initdb): run scripts/setup.sh, or apt-get install postgresql.`,
      );
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('gives each caller a fresh database and removes the cluster on stop', async () => {
    const cluster = await startPostgres();
    let url = '';
    try {
      url = await cluster.createDatabase();
      expect(await cluster.createDatabase()).not.toBe(url);
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      const { rows } = await client.query<{ n: string }>("SELECT COUNT(*) AS n FROM information_schema.tables WHERE table_schema = 'public'");
      await client.end();
      expect(rows[0]?.n).toBe('0');
    } finally {
      await cluster.stop();
    }
    const client = new pg.Client({ connectionString: url });
    await expect(client.connect()).rejects.toThrow();
  });
});
