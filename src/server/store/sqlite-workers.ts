// The SQLite store's queries on workers (sqlite-store.ts delegates here, to stay small).
import type Database from 'better-sqlite3';
import { toWorker, upsertWorkerSql, upsertWorkerValues, type Raw } from './sqlite-rows.js';
import type { WorkerKey, WorkerRow } from './store.js';

const UPSERT_WORKER_SQL = upsertWorkerSql('MAX');

export function upsertWorker(db: Database.Database, w: WorkerRow): void {
  db.prepare(UPSERT_WORKER_SQL).run(...upsertWorkerValues(w));
}

export function touchWorker(db: Database.Database, ownerId: string, workerId: string, time: number, serverUrl: string | null): void {
  db
    .prepare('UPDATE workers SET checkin_time = ?, server_url = COALESCE(?, server_url) WHERE owner_id = ? AND id = ?')
    .run(time, serverUrl, ownerId, workerId);
}

export function getWorker(db: Database.Database, ownerId: string, workerId: string): WorkerRow | undefined {
  const row = db.prepare('SELECT * FROM workers WHERE owner_id = ? AND id = ?').get(ownerId, workerId) as Raw | undefined;
  return row && toWorker(row);
}

export function listWorkers(db: Database.Database): WorkerRow[] {
  return (db.prepare('SELECT * FROM workers ORDER BY owner_id, id').all() as Raw[]).map(toWorker);
}

export function getWorkerCheckinTimes(db: Database.Database, keys: readonly WorkerKey[]): (WorkerKey & { checkin_time: number })[] {
  if (keys.length === 0) return [];
  // The keys travel as one JSON array of [owner, id] pairs: no statement per key, no limit on marks.
  return db
    .prepare(
      `SELECT owner_id, id, checkin_time FROM workers
       WHERE (owner_id, id) IN (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(?))`,
    )
    .all(JSON.stringify(keys.map((k) => [k.owner_id, k.id]))) as (WorkerKey & { checkin_time: number })[];
}
