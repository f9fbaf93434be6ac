// Row conversions for both stores: SQLite has no booleans or JSON columns, so rows carry 0/1
// integers and JSON text, turned into typed rows here and nowhere else. The PostgreSQL schema is
// the same migrations, so PgStore's rows have the same shape and use these too.
import type { BundleState, Metadata } from '../../protocol/index.js';
import type { BundleChange, BundleGuard, BundleRow, TokenKind, TokenRow, UserRow, WorkerRow } from './store.js';

export type SqlValue = string | number | null;
export type Raw = Record<string, SqlValue>;

export function marks(values: readonly unknown[]): string {
  return values.map(() => '?').join(', ');
}

export function boolOrNull(value: boolean | null): number | null {
  return value === null ? null : value ? 1 : 0;
}

export function toUser(r: Raw): UserRow {
  return {
    id: String(r.id),
    user_name: String(r.user_name),
    password_hash: String(r.password_hash),
    is_root: r.is_root === 1,
    created: Number(r.created),
    is_active: r.is_active !== 0,
    quotas: {
      disk: r.disk_quota === null || r.disk_quota === undefined ? null : Number(r.disk_quota),
      time: r.time_quota === null || r.time_quota === undefined ? null : Number(r.time_quota),
      parallel_runs: r.parallel_run_quota === null || r.parallel_run_quota === undefined ? null : Number(r.parallel_run_quota),
    },
    time_used: Number(r.time_used ?? 0),
    email: r.email === null || r.email === undefined ? null : String(r.email),
    last_login: r.last_login === null || r.last_login === undefined ? null : Number(r.last_login),
  };
}

export function toBundle(r: Raw): BundleRow {
  return {
    uuid: String(r.uuid),
    bundle_type: String(r.bundle_type) as BundleRow['bundle_type'],
    command: r.command === null ? null : String(r.command),
    state: String(r.state) as BundleState,
    owner_id: String(r.owner_id),
    is_dir: r.is_dir === null ? null : r.is_dir === 1,
    created: Number(r.created),
    last_updated: Number(r.last_updated),
    metadata: JSON.parse(String(r.metadata)) as Metadata,
    name: String(r.name),
    worker_owner_id: r.worker_owner_id === null ? null : String(r.worker_owner_id),
    worker_id: r.worker_id === null ? null : String(r.worker_id),
    assignment_id: r.assignment_id === null ? null : String(r.assignment_id),
    kill_requested: r.kill_requested === 1,
    state_since: Number(r.state_since),
  };
}

export function toWorker(r: Raw): WorkerRow {
  return {
    owner_id: String(r.owner_id),
    id: String(r.id),
    hostname: String(r.hostname),
    tag: r.tag === null ? null : String(r.tag),
    tag_exclusive: r.tag_exclusive === 1,
    cpus: Number(r.cpus),
    gpus: Number(r.gpus),
    memory_bytes: Number(r.memory_bytes),
    free_disk_bytes: Number(r.free_disk_bytes),
    slots: Number(r.slots),
    runs_left: r.runs_left === null ? null : Number(r.runs_left),
    cached_dependencies: JSON.parse(String(r.cached_dependencies)) as string[],
    docker_ok: r.docker_ok === 1,
    docker_message: r.docker_message === null ? null : String(r.docker_message),
    checkin_time: Number(r.checkin_time),
    gpus_seen: Number(r.gpus_seen ?? 0),
    group_uuid: r.group_uuid === null || r.group_uuid === undefined ? null : String(r.group_uuid),
    shared_file_system: r.shared_file_system === 1,
    server_url: r.server_url === null || r.server_url === undefined ? null : String(r.server_url),
  };
}

/** The SELECT of getTokenWithUser on both engines: the token's columns renamed apart from the user's. */
export const TOKEN_WITH_USER_SQL =
  `SELECT t.user_id AS token_user_id, t.expires_at AS token_expires_at, t.kind AS token_kind, u.*
   FROM tokens t LEFT JOIN users u ON u.id = t.user_id WHERE t.token_hash = ?`;

export function toTokenWithUser(r: Raw): { token: TokenRow; user: UserRow | undefined } {
  const token = { user_id: String(r.token_user_id), expires_at: Number(r.token_expires_at), kind: String(r.token_kind) as TokenKind };
  return { token, user: r.id === null || r.id === undefined ? undefined : toUser(r) };
}

/**
 * upsertWorker's statement on both engines; `greatest` is the engine's two-argument maximum
 * (SQLite's MAX, PostgreSQL's GREATEST), so that gpus_seen keeps the most GPUs ever seen.
 */
export function upsertWorkerSql(greatest: 'MAX' | 'GREATEST'): string {
  return `INSERT INTO workers (owner_id, id, hostname, tag, tag_exclusive, cpus, gpus, memory_bytes, free_disk_bytes, slots,
       runs_left, cached_dependencies, docker_ok, docker_message, checkin_time, gpus_seen, group_uuid,
       shared_file_system, server_url)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (owner_id, id) DO UPDATE SET hostname = excluded.hostname, tag = excluded.tag,
       tag_exclusive = excluded.tag_exclusive, cpus = excluded.cpus, gpus = excluded.gpus,
       memory_bytes = excluded.memory_bytes, free_disk_bytes = excluded.free_disk_bytes, slots = excluded.slots,
       runs_left = excluded.runs_left, cached_dependencies = excluded.cached_dependencies,
       docker_ok = excluded.docker_ok, docker_message = excluded.docker_message, checkin_time = excluded.checkin_time,
       gpus_seen = ${greatest}(workers.gpus_seen, excluded.gpus), group_uuid = excluded.group_uuid,
       shared_file_system = excluded.shared_file_system,
       server_url = COALESCE(excluded.server_url, workers.server_url)`;
}

/** The values of upsertWorkerSql's marks, in its column order. */
export function upsertWorkerValues(w: WorkerRow): SqlValue[] {
  return [
    w.owner_id, w.id, w.hostname, w.tag, w.tag_exclusive ? 1 : 0, w.cpus, w.gpus, w.memory_bytes, w.free_disk_bytes,
    w.slots, w.runs_left, JSON.stringify(w.cached_dependencies), w.docker_ok ? 1 : 0, w.docker_message, w.checkin_time,
    w.gpus, w.group_uuid ?? null, w.shared_file_system === true ? 1 : 0, w.server_url ?? null,
  ];
}

/**
 * The parts of updateBundle's UPDATE both engines write alike: the SET clauses of every column
 * but metadata (whose merge each engine writes its own way), and the WHERE of the guard but its
 * states, which `statesIn` writes for the engine (an IN list, or one array parameter).
 */
export function bundleUpdateParts<V>(
  uuid: string,
  change: BundleChange,
  guard: BundleGuard,
  statesIn: (states: readonly BundleState[]) => { sql: string; values: V[] },
): { sets: string[]; values: (SqlValue | V)[]; where: string[]; whereValues: (SqlValue | V)[] } {
  const sets: string[] = ['last_updated = ?'];
  const values: (SqlValue | V)[] = [change.last_updated];
  const set = (column: string, value: SqlValue): void => {
    sets.push(`${column} = ?`);
    values.push(value);
  };
  if (change.state !== undefined) {
    set('state', change.state);
    // The right-hand sides see the row before the update: a change to the same state keeps the time.
    sets.push('state_since = CASE WHEN state = ? THEN state_since ELSE ? END');
    values.push(change.state, change.last_updated);
  }
  if (change.is_dir !== undefined) set('is_dir', boolOrNull(change.is_dir));
  if (change.name !== undefined) set('name', change.name);
  if (change.worker_owner_id !== undefined) set('worker_owner_id', change.worker_owner_id);
  if (change.worker_id !== undefined) set('worker_id', change.worker_id);
  if (change.assignment_id !== undefined) set('assignment_id', change.assignment_id);
  if (change.kill_requested !== undefined) set('kill_requested', change.kill_requested ? 1 : 0);
  const where: string[] = ['uuid = ?'];
  const whereValues: (SqlValue | V)[] = [uuid];
  if (guard.states) {
    const states = statesIn(guard.states);
    where.push(states.sql);
    whereValues.push(...states.values);
  }
  if (guard.assignment_id !== undefined) {
    where.push('assignment_id = ?');
    whereValues.push(guard.assignment_id);
  }
  if (guard.worker) {
    where.push('worker_owner_id = ? AND worker_id = ?');
    whereValues.push(guard.worker.owner_id, guard.worker.id);
  }
  return { sets, values, where, whereValues };
}
