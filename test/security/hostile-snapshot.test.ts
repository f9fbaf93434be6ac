// The hostile-input suite's digest must see every change an attack could make, and only those:
// a real SQLite file and real files changed in each way, then compared line by line.
import { chmod, mkdir, mkdtemp, rm, symlink, unlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { diffSnapshots, makeCanary, takeSnapshot, type SnapshotTarget } from './hostile-snapshot.js';

let dir = '';

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function fixture(): Promise<{ target: SnapshotTarget; db: Database.Database }> {
  dir = await mkdtemp(join(tmpdir(), 'cl-snapshot-'));
  const db = new Database(join(dir, 'db.sqlite'));
  db.exec(`
    CREATE TABLE bundles (id INTEGER PRIMARY KEY AUTOINCREMENT, uuid TEXT UNIQUE, state TEXT, last_updated INTEGER, metadata TEXT);
    CREATE TABLE workers (owner_id TEXT, id TEXT, slots INTEGER, checkin_time INTEGER, PRIMARY KEY (owner_id, id));
    INSERT INTO bundles (uuid, state, last_updated, metadata) VALUES ('0xa', 'ready', 1, '{"name":"a","time":1}');
    INSERT INTO workers VALUES ('0', 'w', 2, 100);
  `);
  const store = join(dir, 'store');
  await mkdir(join(store, 'bundles', '0xa'), { recursive: true });
  await writeFile(join(store, 'bundles', '0xa', 'f'), 'data');
  const canary = await makeCanary(join(dir, 'host'));
  return { target: { database: join(dir, 'db.sqlite'), store, hostDirs: [canary.parent] }, db };
}

describe('the hostile-input snapshot', () => {
  it('reports each changed row, column, file, mode and link, one line each', async () => {
    const { target, db } = await fixture();
    const before = await takeSnapshot(target);
    db.prepare("UPDATE bundles SET state = 'failed' WHERE uuid = '0xa'").run();
    db.prepare("INSERT INTO bundles (uuid, state, last_updated, metadata) VALUES ('0xb', 'uploading', 1, '{}')").run();
    db.prepare("UPDATE workers SET slots = 3 WHERE id = 'w'").run();
    await writeFile(join(target.store, 'bundles', '0xa', 'f'), 'DATA');
    await chmod(join(dir, 'host', 'canary', 'victim.txt'), 0o600);
    await unlink(join(dir, 'host', 'canary', 'link-to-secret'));
    await symlink('/', join(dir, 'host', 'canary', 'link-to-secret'));
    await writeFile(join(dir, 'host', 'planted'), 'x');
    await unlink(join(dir, 'host', 'canary', 'sub', 'victim.txt'));
    // Volatile: a worker's progress report and check-in time; never reported.
    db.prepare(`UPDATE bundles SET last_updated = 9, metadata = '{"name":"a","time":2}' WHERE uuid = '0xa'`).run();
    db.prepare("UPDATE workers SET checkin_time = 200 WHERE id = 'w'").run();
    const lines = diffSnapshots(before, await takeSnapshot(target));
    db.close();
    const host = join(dir, 'host');
    expect(lines.map((line) => line.replace(/\b[0-9a-f]{16}\b/g, 'HASH'))).toEqual([
      '~ db bundles[uuid=0xa].state: "ready" → "failed"',
      '~ db sqlite_sequence[name=bundles].seq: 1 → 2',
      '~ db workers[owner_id=0,id=w].slots: 2 → 3',
      '~ store bundles/0xa/f: file 4 644 HASH → file 4 644 HASH',
      `~ host ${host} canary/link-to-secret: link -> secret.txt → link -> /`,
      `- host ${host} canary/sub/victim.txt file 23 644 HASH`,
      `~ host ${host} canary/victim.txt: file 19 644 HASH → file 19 600 HASH`,
      '+ db bundles[uuid=0xb].id 2',
      '+ db bundles[uuid=0xb].state "uploading"',
      '+ db bundles[uuid=0xb].metadata {}',
      `+ host ${host} planted file 1 644 HASH`,
    ]);
  });
});
