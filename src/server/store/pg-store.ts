// The Store on PostgreSQL (pg.Pool). Same schema and semantics as SqliteStore: the migrations are
// the same files (migration-sql.ts), booleans are 0/1 integers and metadata is JSON text, so the
// row conversions in sqlite-rows.ts serve both. Queries live in pg-users.ts, pg-access.ts and
// pg-bundles.ts; this file holds migrations, workers, worksheets and the delegation.
// Known differences from SQLite, all at the edges: a metadata update replaces a nested object
// where SQLite's json_patch merges it; a metadata match sees JSON true as 'true' (SQLite: '1');
// a numeric sort reads '12abc' as 0 (SQLite: 12); metadata text may not hold \u0000 (jsonb refuses).
import type pg from 'pg';
import type { BundleState, Dependency } from '../../protocol/index.js';
import type { BundleQuery } from './bundle-query.js';
import type { GrantLevel, GrantRow, GroupMemberRow, GroupRow, Level, ObjectKind } from './access-store.js';
import { loadMigrations, SCHEMA_MIGRATIONS_TABLE } from './migration-sql.js';
import * as access from './pg-access.js';
import type { ClusterStore } from './cluster-store.js';
import { PgClusterStore } from './pg-cluster.js';
import * as bundles from './pg-bundles.js';
import { bundleQuerySql } from './pg-bundle-query.js';
import { all, createPool, one, run, transaction, type PgRow } from './pg-client.js';
import * as users from './pg-users.js';
import { readableSql } from './sqlite-access.js';
import { toBundle, toTokenWithUser, toWorker, TOKEN_WITH_USER_SQL, upsertWorkerSql, upsertWorkerValues } from './sqlite-rows.js';
import type {
  BundleChange, BundleGuard, BundleRow, NewBundleRow, NewUserRow, Store, TokenKind, TokenRow, UserAccountChange,
  UserHoldings, UserRow, WorkerKey, WorkerRow, WorksheetItemRow, WorksheetRow,
} from './store.js';

/** Serialises concurrent `migrate` calls (two servers starting on one database). */
const MIGRATION_LOCK_KEY = 0x636c6d67;
const UPSERT_WORKER_SQL = upsertWorkerSql('GREATEST');

export class PgStore implements Store {
  private readonly pool: pg.Pool;
  readonly cluster: ClusterStore;

  constructor(url: string) {
    this.pool = createPool(url);
    this.cluster = new PgClusterStore(this.pool);
  }

  async migrate(): Promise<void> {
    await transaction(this.pool, async (db) => {
      await run(db, 'SELECT pg_advisory_xact_lock(?)', [MIGRATION_LOCK_KEY]);
      await run(db, SCHEMA_MIGRATIONS_TABLE);
      const applied = new Set((await all<{ name: string }>(db, 'SELECT name FROM schema_migrations')).map((r) => r.name));
      for (const migration of loadMigrations('postgres')) {
        if (applied.has(migration.name)) continue;
        // No parameters: the simple protocol runs the file's several statements at once.
        await db.query(migration.sql);
        await run(db, 'INSERT INTO schema_migrations (name, applied) VALUES (?, ?)', [migration.name, Date.now()]);
      }
    });
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  insertUser(user: NewUserRow): Promise<void> { return users.insertUser(this.pool, user); }
  getUserByName(userName: string): Promise<UserRow | undefined> { return users.getUserByName(this.pool, userName); }
  getUsersByIds(ids: readonly string[]): Promise<UserRow[]> { return users.getUsersByIds(this.pool, ids); }
  updateUserAccount(userId: string, change: UserAccountChange): Promise<void> { return users.updateUserAccount(this.pool, userId, change); }
  addUserTimeUsed(userId: string, seconds: number): Promise<void> { return users.addUserTimeUsed(this.pool, userId, seconds); }
  getUserDiskUsage(userId: string): Promise<{ bundles: number; disk_used: number }> { return users.getUserDiskUsage(this.pool, userId); }
  listUsers(): Promise<UserRow[]> { return users.listUsers(this.pool); }
  setUserPassword(userId: string, passwordHash: string): Promise<void> { return users.setUserPassword(this.pool, userId, passwordHash); }
  setUserLastLogin(userId: string, time: number): Promise<void> { return users.setUserLastLogin(this.pool, userId, time); }
  deleteUserIfOwnsNothing(userId: string): Promise<UserHoldings> { return users.deleteUserIfOwnsNothing(this.pool, userId); }
  insertToken(tokenHash: string, userId: string, expiresAt: number, kind: TokenKind): Promise<void> { return users.insertToken(this.pool, tokenHash, userId, expiresAt, kind); }
  getToken(tokenHash: string): Promise<TokenRow | undefined> { return users.getToken(this.pool, tokenHash); }
  async getTokenWithUser(tokenHash: string): Promise<{ token: TokenRow; user: UserRow | undefined } | undefined> {
    const row = await one<PgRow>(this.pool, TOKEN_WITH_USER_SQL, [tokenHash]);
    return row && toTokenWithUser(row);
  }
  deleteToken(tokenHash: string): Promise<boolean> { return users.deleteToken(this.pool, tokenHash); }
  deleteTokensOfUser(userId: string): Promise<void> { return users.deleteTokensOfUser(this.pool, userId); }
  deleteTokensExpiredBefore(time: number): Promise<void> { return users.deleteTokensExpiredBefore(this.pool, time); }

  async insertWorksheet(ws: WorksheetRow): Promise<void> {
    await run(this.pool, 'INSERT INTO worksheets (uuid, name, title, owner_id, created) VALUES (?, ?, ?, ?, ?)', [
      ws.uuid, ws.name, ws.title, ws.owner_id, ws.created,
    ]);
  }

  getWorksheetByName(name: string): Promise<WorksheetRow | undefined> {
    return one<WorksheetRow>(this.pool, 'SELECT * FROM worksheets WHERE name = ?', [name]);
  }

  getWorksheetByUuid(uuid: string): Promise<WorksheetRow | undefined> {
    return one<WorksheetRow>(this.pool, 'SELECT * FROM worksheets WHERE uuid = ?', [uuid]);
  }

  findWorksheetsByUuidPrefix(prefix: string, limit: number, readableBy: string | null): Promise<WorksheetRow[]> {
    const [filter, values] = bundles.readableFilter('worksheet', readableBy);
    return all<WorksheetRow>(this.pool, `SELECT * FROM worksheets WHERE uuid ILIKE ?::text || '%' ESCAPE '' ${filter} ORDER BY created LIMIT ?`, [
      prefix, ...values, limit,
    ]);
  }

  async addWorksheetItem(worksheetUuid: string, bundleUuid: string): Promise<void> {
    await run(this.pool, 'INSERT INTO worksheet_items (worksheet_uuid, bundle_uuid) VALUES (?, ?)', [worksheetUuid, bundleUuid]);
  }

  async listWorksheetBundleUuids(worksheetUuid: string): Promise<string[]> {
    const rows = await all<{ bundle_uuid: string }>(
      this.pool,
      'SELECT i.bundle_uuid FROM worksheet_items i JOIN bundles b ON b.uuid = i.bundle_uuid WHERE i.worksheet_uuid = ? ORDER BY i.id',
      [worksheetUuid],
    );
    return rows.map((r) => r.bundle_uuid);
  }

  async listWorksheets(nameLike: string | null, ownerId: string | null, limit: number, offset: number, readableBy: string | null): Promise<WorksheetRow[]> {
    const where: string[] = [];
    const values: (string | number)[] = [];
    if (readableBy !== null) {
      where.push(readableSql('worksheet', 'uuid', 'owner_id'));
      values.push(readableBy, readableBy);
    }
    if (nameLike !== null) {
      where.push("name ILIKE ? ESCAPE '\\'");
      values.push(nameLike);
    }
    if (ownerId !== null) {
      where.push('owner_id = ?');
      values.push(ownerId);
    }
    const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    return all<WorksheetRow>(this.pool, `SELECT * FROM worksheets ${whereSql} ORDER BY name COLLATE "C" LIMIT ? OFFSET ?`, [...values, limit, offset]);
  }

  async deleteWorksheet(uuid: string): Promise<void> {
    await transaction(this.pool, async (db) => {
      await run(db, 'DELETE FROM worksheet_items WHERE worksheet_uuid = ?', [uuid]);
      await run(db, 'DELETE FROM worksheets WHERE uuid = ?', [uuid]);
    });
  }

  async addWorksheetMarkup(worksheetUuid: string, value: string): Promise<void> {
    await run(this.pool, "INSERT INTO worksheet_items (worksheet_uuid, bundle_uuid, item_type, value) VALUES (?, '', 'markup', ?)", [worksheetUuid, value]);
  }

  listWorksheetItems(worksheetUuid: string): Promise<WorksheetItemRow[]> { return bundles.listWorksheetItems(this.pool, worksheetUuid); }
  removeWorksheetBundleItems(worksheetUuid: string, bundleUuid: string, index: number | null): Promise<number> {
    return bundles.removeWorksheetBundleItems(this.pool, worksheetUuid, bundleUuid, index);
  }

  insertBundle(bundle: NewBundleRow, dependencies: readonly Dependency[], worksheetUuid: string | null): Promise<void> {
    return bundles.insertBundle(this.pool, bundle, dependencies, worksheetUuid);
  }

  async getBundles(uuids: readonly string[]): Promise<BundleRow[]> {
    if (uuids.length === 0) return [];
    return bundles.selectBundles(this.pool, 'uuid = ANY(?::text[])', [uuids]);
  }

  findBundlesByUuidPrefix(prefix: string, limit: number, readableBy: string | null): Promise<BundleRow[]> {
    return bundles.findBundlesByUuidPrefix(this.pool, prefix, limit, readableBy);
  }

  findBundlesByName(likePattern: string, limit: number, readableBy: string | null): Promise<BundleRow[]> {
    return bundles.findBundlesByName(this.pool, likePattern, limit, readableBy);
  }

  listBundlesInStates(states: readonly BundleState[]): Promise<BundleRow[]> { return bundles.listBundlesInStates(this.pool, states); }

  listBundlesOfWorker(ownerId: string, workerId: string, states: readonly BundleState[]): Promise<BundleRow[]> {
    return bundles.selectBundles(this.pool, 'worker_owner_id = ? AND worker_id = ? AND state = ANY(?::text[]) ORDER BY id', [ownerId, workerId, [...states]]);
  }

  updateBundle(uuid: string, change: BundleChange, guard: BundleGuard = {}): Promise<boolean> {
    return bundles.updateBundle(this.pool, uuid, change, guard);
  }
  setStagedStatuses(statuses: ReadonlyMap<string, string>, time: number): Promise<void> { return bundles.setStagedStatuses(this.pool, statuses, time); }

  getDependencies(childUuids: readonly string[]): Promise<(Dependency & { child_uuid: string })[]> { return bundles.getDependencies(this.pool, childUuids); }
  getDependents(parentUuids: readonly string[]): Promise<(Dependency & { child_uuid: string })[]> { return bundles.getDependents(this.pool, parentUuids); }
  deleteBundles(uuids: readonly string[]): Promise<void> { return bundles.deleteBundles(this.pool, uuids); }
  getHostWorksheets(bundleUuids: readonly string[]): Promise<Map<string, string[]>> { return bundles.getHostWorksheets(this.pool, bundleUuids); }

  findBundlesByCommand(ownerId: string, command: string, limit: number): Promise<BundleRow[]> {
    return bundles.selectBundles(this.pool, 'owner_id = ? AND command = ? ORDER BY id DESC LIMIT ?', [ownerId, command, limit]);
  }

  async searchBundles(query: BundleQuery): Promise<{ rows: BundleRow[]; result: number | null }> {
    const { sql, values } = bundleQuerySql(query);
    if (query.aggregate) {
      const row = await one<{ result: number | null }>(this.pool, sql, values);
      return { rows: [], result: Number(row?.result ?? 0) };
    }
    return { rows: (await all<PgRow>(this.pool, sql, values)).map(toBundle), result: null };
  }

  async upsertWorker(w: WorkerRow): Promise<void> {
    await run(this.pool, UPSERT_WORKER_SQL, upsertWorkerValues(w));
  }

  async touchWorker(ownerId: string, workerId: string, time: number, serverUrl: string | null = null): Promise<void> {
    await run(
      this.pool,
      'UPDATE workers SET checkin_time = ?, server_url = COALESCE(?, server_url) WHERE owner_id = ? AND id = ?',
      [time, serverUrl, ownerId, workerId],
    );
  }

  async getWorker(ownerId: string, workerId: string): Promise<WorkerRow | undefined> {
    const row = await one<PgRow>(this.pool, 'SELECT * FROM workers WHERE owner_id = ? AND id = ?', [ownerId, workerId]);
    return row && toWorker(row);
  }

  async listWorkers(): Promise<WorkerRow[]> {
    return (await all<PgRow>(this.pool, 'SELECT * FROM workers ORDER BY owner_id COLLATE "C", id COLLATE "C"')).map(toWorker);
  }

  async getWorkerCheckinTimes(keys: readonly WorkerKey[]): Promise<(WorkerKey & { checkin_time: number })[]> {
    if (keys.length === 0) return [];
    return all<WorkerKey & { checkin_time: number }>(
      this.pool,
      'SELECT owner_id, id, checkin_time FROM workers WHERE (owner_id, id) IN (SELECT * FROM unnest(?::text[], ?::text[]))',
      [keys.map((k) => k.owner_id), keys.map((k) => k.id)],
    );
  }

  // Groups and permissions (pg-access.ts).
  insertGroup(group: GroupRow): Promise<void> { return access.insertGroup(this.pool, group); }
  getGroups(uuids: readonly string[]): Promise<GroupRow[]> { return access.getGroups(this.pool, uuids); }
  getGroupByName(name: string): Promise<GroupRow | undefined> { return access.getGroupByName(this.pool, name); }
  findGroupsByUuidPrefix(prefix: string, limit: number): Promise<GroupRow[]> { return access.findGroupsByUuidPrefix(this.pool, prefix, limit); }
  listGroups(memberId: string | null): Promise<GroupRow[]> { return access.listGroups(this.pool, memberId); }
  deleteGroup(uuid: string): Promise<void> { return access.deleteGroup(this.pool, uuid); }
  listGroupMembers(groupUuid: string): Promise<GroupMemberRow[]> { return access.listGroupMembers(this.pool, groupUuid); }
  putGroupMember(member: GroupMemberRow): Promise<void> { return access.putGroupMember(this.pool, member); }
  removeGroupMember(groupUuid: string, userId: string): Promise<boolean> { return access.removeGroupMember(this.pool, groupUuid, userId); }
  listGroupUuidsOf(userId: string): Promise<string[]> { return access.listGroupUuidsOf(this.pool, userId); }
  getGrants(kind: ObjectKind, uuids: readonly string[]): Promise<Map<string, GrantRow[]>> { return access.getGrants(this.pool, kind, uuids); }
  setGrant(kind: ObjectKind, uuids: readonly string[], groupUuid: string, level: Level): Promise<void> { return access.setGrant(this.pool, kind, uuids, groupUuid, level); }
  grantedLevels(kind: ObjectKind, userId: string, uuids: readonly string[]): Promise<Map<string, GrantLevel>> { return access.grantedLevels(this.pool, kind, userId, uuids); }
  setBundleOwner(uuids: readonly string[], ownerId: string): Promise<void> { return access.setBundleOwner(this.pool, uuids, ownerId); }
}
