// The SQLite store's queries on workers (sqlite-store.ts delegates here, to stay small).
import type Database from 'better-sqlite3';
import { toWorker, type Raw } from './sqlite-rows.js';
import type { WorkerKey, WorkerRow } from './store.js';

export function upsertWorker(db: Database.Database, w: WorkerRow): void {
  db
    .prepare(
      `INSERT INTO workers (owner_id, id, hostname, tag, tag_exclusive, cpus, gpus, memory_bytes, free_disk_bytes, slots,
         runs_left, cached_dependencies, docker_ok, docker_message, checkin_time, gpus_seen, group_uuid,
         shared_file_system, server_url)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (owner_id, id) DO UPDATE SET hostname = excluded.hostname, tag = excluded.tag,
         tag_exclusive = excluded.tag_exclusive, cpus = excluded.cpus, gpus = excluded.gpus,
         memory_bytes = excluded.memory_bytes, free_disk_bytes = excluded.free_disk_bytes, slots = excluded.slots,
         runs_left = excluded.runs_left, cached_dependencies = excluded.cached_dependencies,
         docker_ok = excluded.docker_ok, docker_message = excluded.docker_message, checkin_time = excluded.checkin_time,
         gpus_seen = MAX(workers.gpus_seen, excluded.gpus), group_uuid = excluded.group_uuid,
         shared_file_system = excluded.shared_file_system,
         server_url = COALESCE(excluded.server_url, workers.server_url)`,
    )
    .run(
      w.owner_id, w.id, w.hostname, w.tag, w.tag_exclusive ? 1 : 0, w.cpus, w.gpus, w.memory_bytes, w.free_disk_bytes,
      w.slots, w.runs_left, JSON.stringify(w.cached_dependencies), w.docker_ok ? 1 : 0, w.docker_message, w.checkin_time,
      w.gpus, w.group_uuid ?? null, w.shared_file_system === true ? 1 : 0, w.server_url ?? null,
    );
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
