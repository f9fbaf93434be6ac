// The Store on SQLite (better-sqlite3, in process). Every operation is one statement or one
// transaction; guarded updates put their guard in the WHERE clause, so a stale writer changes nothing.
import Database from 'better-sqlite3';
import type { BundleState, Dependency } from '../../protocol/index.js';
import type { BundleQuery } from './bundle-query.js';
import { loadMigrations, SCHEMA_MIGRATIONS_TABLE } from './migration-sql.js';
import { bundleQuerySql } from './sqlite-bundle-query.js';
import { cacheStatements } from './sqlite-statement-cache.js';
import { addUserTimeUsed, getUserDiskUsage, updateUserAccount } from './sqlite-user-accounts.js';
import * as users from './sqlite-users.js';
import * as access from './sqlite-access.js';
import * as bundles from './sqlite-bundles.js';
import * as workers from './sqlite-workers.js';
import type { ClusterStore } from './cluster-store.js';
import { SqliteClusterStore } from './sqlite-cluster.js';
import type { GrantLevel, GrantRow, GroupMemberRow, GroupRow, Level, ObjectKind } from './access-store.js';
import { boolOrNull, marks, toBundle, toTokenWithUser, toUser, TOKEN_WITH_USER_SQL, type Raw, type SqlValue } from './sqlite-rows.js';
import type {
  BundleChange,
  BundleGuard,
  BundleRow,
  NewBundleRow,
  NewUserRow,
  Store,
  UserAccountChange,
  TokenKind,
  TokenRow,
  UserHoldings,
  UserRow,
  WorkerKey,
  WorkerRow,
  WorksheetItemRow,
  WorksheetRow,
} from './store.js';

export class SqliteStore implements Store {
  private readonly db: Database.Database;
  readonly cluster: ClusterStore;

  constructor(path: string) {
    this.db = new Database(path);
    this.cluster = new SqliteClusterStore(this.db);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.pragma('busy_timeout = 5000');
    cacheStatements(this.db);
  }

  async migrate(): Promise<void> {
    this.db.exec(SCHEMA_MIGRATIONS_TABLE);
    const applied = new Set(
      (this.db.prepare('SELECT name FROM schema_migrations').all() as { name: string }[]).map((r) => r.name),
    );
    for (const migration of loadMigrations('sqlite')) {
      if (applied.has(migration.name)) continue;
      this.db.transaction(() => {
        this.db.exec(migration.sql);
        this.db.prepare('INSERT INTO schema_migrations (name, applied) VALUES (?, ?)').run(migration.name, Date.now());
      })();
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }

  async insertUser(user: NewUserRow): Promise<void> {
    users.insertUser(this.db, user);
  }

  async getUserByName(userName: string): Promise<UserRow | undefined> {
    const row = this.db.prepare('SELECT * FROM users WHERE user_name = ?').get(userName) as Raw | undefined;
    return row && toUser(row);
  }

  async getUsersByIds(ids: readonly string[]): Promise<UserRow[]> {
    if (ids.length === 0) return [];
    const rows = this.db.prepare(`SELECT * FROM users WHERE id IN (${marks(ids)})`).all(...ids) as Raw[];
    return rows.map(toUser);
  }

  async updateUserAccount(userId: string, change: UserAccountChange): Promise<void> {
    updateUserAccount(this.db, userId, change);
  }

  async addUserTimeUsed(userId: string, seconds: number): Promise<void> {
    addUserTimeUsed(this.db, userId, seconds);
  }

  async getUserDiskUsage(userId: string): Promise<{ bundles: number; disk_used: number }> {
    return getUserDiskUsage(this.db, userId);
  }

  async listUsers(): Promise<UserRow[]> {
    return users.listUsers(this.db);
  }

  async setUserPassword(userId: string, passwordHash: string): Promise<void> {
    users.setUserPassword(this.db, userId, passwordHash);
  }

  async setUserLastLogin(userId: string, time: number): Promise<void> {
    users.setUserLastLogin(this.db, userId, time);
  }

  async deleteUserIfOwnsNothing(userId: string): Promise<UserHoldings> {
    return users.deleteUserIfOwnsNothing(this.db, userId);
  }

  async insertToken(tokenHash: string, userId: string, expiresAt: number, kind: TokenKind): Promise<void> {
    users.insertToken(this.db, tokenHash, userId, expiresAt, kind);
  }

  async getToken(tokenHash: string): Promise<TokenRow | undefined> {
    return users.getToken(this.db, tokenHash);
  }

  async getTokenWithUser(tokenHash: string): Promise<{ token: TokenRow; user: UserRow | undefined } | undefined> {
    const row = this.db.prepare(TOKEN_WITH_USER_SQL).get(tokenHash) as Raw | undefined;
    return row && toTokenWithUser(row);
  }

  async deleteToken(tokenHash: string): Promise<boolean> {
    return users.deleteToken(this.db, tokenHash);
  }

  async deleteTokensOfUser(userId: string): Promise<void> {
    users.deleteTokensOfUser(this.db, userId);
  }

  async deleteTokensExpiredBefore(time: number): Promise<void> {
    this.db.prepare('DELETE FROM tokens WHERE expires_at < ?').run(time);
  }

  async insertWorksheet(ws: WorksheetRow): Promise<void> {
    this.db
      .prepare('INSERT INTO worksheets (uuid, name, title, owner_id, created) VALUES (?, ?, ?, ?, ?)')
      .run(ws.uuid, ws.name, ws.title, ws.owner_id, ws.created);
  }

  async getWorksheetByName(name: string): Promise<WorksheetRow | undefined> {
    return this.db.prepare('SELECT * FROM worksheets WHERE name = ?').get(name) as WorksheetRow | undefined;
  }

  async getWorksheetByUuid(uuid: string): Promise<WorksheetRow | undefined> {
    return this.db.prepare('SELECT * FROM worksheets WHERE uuid = ?').get(uuid) as WorksheetRow | undefined;
  }

  async findWorksheetsByUuidPrefix(prefix: string, limit: number, readableBy: string | null): Promise<WorksheetRow[]> {
    const [filter, values] = readableFilter('worksheet', 'uuid', 'owner_id', readableBy);
    return this.db
      .prepare(`SELECT * FROM worksheets WHERE uuid LIKE ? || '%' ${filter} ORDER BY created LIMIT ?`)
      .all(prefix, ...values, limit) as WorksheetRow[];
  }

  async addWorksheetItem(worksheetUuid: string, bundleUuid: string): Promise<void> {
    this.db.prepare('INSERT INTO worksheet_items (worksheet_uuid, bundle_uuid) VALUES (?, ?)').run(worksheetUuid, bundleUuid);
  }

  async listWorksheetBundleUuids(worksheetUuid: string): Promise<string[]> {
    const rows = this.db
      .prepare(
        `SELECT i.bundle_uuid FROM worksheet_items i JOIN bundles b ON b.uuid = i.bundle_uuid
         WHERE i.worksheet_uuid = ? ORDER BY i.id`,
      )
      .all(worksheetUuid) as { bundle_uuid: string }[];
    return rows.map((r) => r.bundle_uuid);
  }

  async insertBundle(bundle: NewBundleRow, dependencies: readonly Dependency[], worksheetUuid: string | null): Promise<void> {
    const insert = this.db.prepare(
      `INSERT INTO bundles (uuid, bundle_type, command, state, owner_id, is_dir, created, last_updated, metadata, name,
         worker_owner_id, worker_id, assignment_id, kill_requested, state_since)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const insertDep = this.db.prepare(
      'INSERT INTO bundle_dependencies (child_uuid, child_path, parent_uuid, parent_path) VALUES (?, ?, ?, ?)',
    );
    this.db.transaction(() => {
      insert.run(
        bundle.uuid, bundle.bundle_type, bundle.command, bundle.state, bundle.owner_id, boolOrNull(bundle.is_dir),
        bundle.created, bundle.last_updated, JSON.stringify(bundle.metadata), bundle.name,
        bundle.worker_owner_id, bundle.worker_id, bundle.assignment_id, bundle.kill_requested ? 1 : 0, bundle.last_updated,
      );
      for (const dep of dependencies) insertDep.run(bundle.uuid, dep.child_path, dep.parent_uuid, dep.parent_path);
      if (worksheetUuid) {
        this.db.prepare('INSERT INTO worksheet_items (worksheet_uuid, bundle_uuid) VALUES (?, ?)').run(worksheetUuid, bundle.uuid);
        // A new bundle is shared exactly as the worksheet it lands on (CodaLab's rule).
        this.db
          .prepare('INSERT INTO bundle_permissions (bundle_uuid, group_uuid, permission) SELECT ?, group_uuid, permission FROM worksheet_permissions WHERE worksheet_uuid = ?')
          .run(bundle.uuid, worksheetUuid);
      }
    })();
  }

  async getBundles(uuids: readonly string[]): Promise<BundleRow[]> {
    if (uuids.length === 0) return [];
    const rows = this.db.prepare(`SELECT * FROM bundles WHERE uuid IN (${marks(uuids)})`).all(...uuids) as Raw[];
    return rows.map(toBundle);
  }

  async findBundlesByUuidPrefix(prefix: string, limit: number, readableBy: string | null): Promise<BundleRow[]> {
    const [filter, values] = readableFilter('bundle', 'uuid', 'owner_id', readableBy);
    const rows = this.db
      .prepare(`SELECT * FROM bundles WHERE uuid LIKE ? || '%' ${filter} ORDER BY id DESC LIMIT ?`)
      .all(prefix, ...values, limit) as Raw[];
    return rows.map(toBundle);
  }

  async findBundlesByName(likePattern: string, limit: number, readableBy: string | null): Promise<BundleRow[]> {
    const [filter, values] = readableFilter('bundle', 'uuid', 'owner_id', readableBy);
    const rows = this.db
      .prepare(`SELECT * FROM bundles WHERE name LIKE ? ESCAPE '\\' ${filter} ORDER BY id DESC LIMIT ?`)
      .all(likePattern, ...values, limit) as Raw[];
    return rows.map(toBundle);
  }

  async listBundlesInStates(states: readonly BundleState[]): Promise<BundleRow[]> {
    const rows = this.db
      .prepare(`SELECT * FROM bundles WHERE state IN (${marks(states)}) ORDER BY id`)
      .all(...states) as Raw[];
    return rows.map(toBundle);
  }

  async listBundlesOfWorker(ownerId: string, workerId: string, states: readonly BundleState[]): Promise<BundleRow[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM bundles WHERE worker_owner_id = ? AND worker_id = ? AND state IN (${marks(states)}) ORDER BY id`,
      )
      .all(ownerId, workerId, ...states) as Raw[];
    return rows.map(toBundle);
  }

  async updateBundle(uuid: string, change: BundleChange, guard: BundleGuard = {}): Promise<boolean> {
    return bundles.updateBundle(this.db, uuid, change, guard);
  }

  async setStagedStatuses(statuses: ReadonlyMap<string, string>, time: number): Promise<void> {
    this.db.transaction(() => {
      for (const [uuid, status] of statuses) bundles.updateBundle(this.db, uuid, { last_updated: time, metadata: { staged_status: status } }, { states: ['staged'] });
    })();
  }

  async getDependencies(childUuids: readonly string[]): Promise<(Dependency & { child_uuid: string })[]> {
    if (childUuids.length === 0) return [];
    return this.db
      .prepare(`SELECT * FROM bundle_dependencies WHERE child_uuid IN (${marks(childUuids)}) ORDER BY rowid`)
      .all(...childUuids) as (Dependency & { child_uuid: string })[];
  }

  async upsertWorker(w: WorkerRow): Promise<void> { workers.upsertWorker(this.db, w); }
  async touchWorker(ownerId: string, workerId: string, time: number, serverUrl: string | null = null): Promise<void> {
    workers.touchWorker(this.db, ownerId, workerId, time, serverUrl);
  }
  async getWorker(ownerId: string, workerId: string): Promise<WorkerRow | undefined> { return workers.getWorker(this.db, ownerId, workerId); }
  async listWorkers(): Promise<WorkerRow[]> { return workers.listWorkers(this.db); }
  async getWorkerCheckinTimes(keys: readonly WorkerKey[]): Promise<(WorkerKey & { checkin_time: number })[]> {
    return workers.getWorkerCheckinTimes(this.db, keys);
  }

  async searchBundles(query: BundleQuery): Promise<{ rows: BundleRow[]; result: number | null }> {
    const { sql, values } = bundleQuerySql(query);
    if (query.aggregate) {
      const row = this.db.prepare(sql).get(...values) as { result: number | null } | undefined;
      return { rows: [], result: Number(row?.result ?? 0) };
    }
    return { rows: (this.db.prepare(sql).all(...values) as Raw[]).map(toBundle), result: null };
  }

  async getDependents(parentUuids: readonly string[]): Promise<(Dependency & { child_uuid: string })[]> {
    if (parentUuids.length === 0) return [];
    return this.db
      .prepare(`SELECT * FROM bundle_dependencies WHERE parent_uuid IN (${marks(parentUuids)}) ORDER BY rowid`)
      .all(...parentUuids) as (Dependency & { child_uuid: string })[];
  }

  async deleteBundles(uuids: readonly string[]): Promise<void> {
    if (uuids.length === 0) return;
    this.db.transaction(() => {
      this.db.prepare(`DELETE FROM bundle_dependencies WHERE child_uuid IN (${marks(uuids)})`).run(...uuids);
      this.db.prepare(`DELETE FROM worksheet_items WHERE bundle_uuid IN (${marks(uuids)})`).run(...uuids);
      this.db.prepare(`DELETE FROM bundles WHERE uuid IN (${marks(uuids)})`).run(...uuids);
    })();
  }

  async getHostWorksheets(bundleUuids: readonly string[]): Promise<Map<string, string[]>> {
    const hosts = new Map<string, string[]>();
    if (bundleUuids.length === 0) return hosts;
    const rows = this.db
      .prepare(
        `SELECT DISTINCT bundle_uuid, worksheet_uuid FROM worksheet_items WHERE bundle_uuid IN (${marks(bundleUuids)})`,
      )
      .all(...bundleUuids) as { bundle_uuid: string; worksheet_uuid: string }[];
    for (const row of rows) hosts.set(row.bundle_uuid, [...(hosts.get(row.bundle_uuid) ?? []), row.worksheet_uuid]);
    return hosts;
  }

  async findBundlesByCommand(ownerId: string, command: string, limit: number): Promise<BundleRow[]> {
    const rows = this.db
      .prepare('SELECT * FROM bundles WHERE owner_id = ? AND command = ? ORDER BY id DESC LIMIT ?')
      .all(ownerId, command, limit) as Raw[];
    return rows.map(toBundle);
  }

  async listWorksheets(nameLike: string | null, ownerId: string | null, limit: number, offset: number, readableBy: string | null): Promise<WorksheetRow[]> {
    const where: string[] = [];
    const values: SqlValue[] = [];
    if (readableBy !== null) {
      where.push(access.readableSql('worksheet', 'uuid', 'owner_id'));
      values.push(readableBy, readableBy);
    }
    if (nameLike !== null) {
      where.push("name LIKE ? ESCAPE '\\'");
      values.push(nameLike);
    }
    if (ownerId !== null) {
      where.push('owner_id = ?');
      values.push(ownerId);
    }
    const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
    return this.db
      .prepare(`SELECT * FROM worksheets ${whereSql} ORDER BY name LIMIT ? OFFSET ?`)
      .all(...values, limit, offset) as WorksheetRow[];
  }

  async deleteWorksheet(uuid: string): Promise<void> {
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM worksheet_items WHERE worksheet_uuid = ?').run(uuid);
      this.db.prepare('DELETE FROM worksheets WHERE uuid = ?').run(uuid);
    })();
  }

  async addWorksheetMarkup(worksheetUuid: string, value: string): Promise<void> {
    this.db
      .prepare("INSERT INTO worksheet_items (worksheet_uuid, bundle_uuid, item_type, value) VALUES (?, '', 'markup', ?)")
      .run(worksheetUuid, value);
  }

  async listWorksheetItems(worksheetUuid: string): Promise<WorksheetItemRow[]> {
    return this.db
      .prepare(
        `SELECT i.id, i.item_type, i.bundle_uuid, i.value FROM worksheet_items i
         WHERE i.worksheet_uuid = ? AND (i.item_type <> 'bundle' OR EXISTS (SELECT 1 FROM bundles b WHERE b.uuid = i.bundle_uuid))
         ORDER BY i.id`,
      )
      .all(worksheetUuid) as WorksheetItemRow[];
  }

  async removeWorksheetBundleItems(worksheetUuid: string, bundleUuid: string, index: number | null): Promise<number> {
    const ids = (
      this.db
        .prepare("SELECT id FROM worksheet_items WHERE worksheet_uuid = ? AND bundle_uuid = ? AND item_type = 'bundle' ORDER BY id DESC")
        .all(worksheetUuid, bundleUuid) as { id: number }[]
    ).map((r) => r.id);
    const chosen = index === null ? ids : ids.slice(index - 1, index);
    if (chosen.length === 0) return 0;
    this.db.prepare(`DELETE FROM worksheet_items WHERE id IN (${marks(chosen)})`).run(...chosen);
    return chosen.length;
  }

  // Groups and permissions (sqlite-access.ts).
  async insertGroup(group: GroupRow): Promise<void> { access.insertGroup(this.db, group); }
  async getGroups(uuids: readonly string[]): Promise<GroupRow[]> { return access.getGroups(this.db, uuids); }
  async getGroupByName(name: string): Promise<GroupRow | undefined> { return access.getGroupByName(this.db, name); }
  async findGroupsByUuidPrefix(prefix: string, limit: number): Promise<GroupRow[]> { return access.findGroupsByUuidPrefix(this.db, prefix, limit); }
  async listGroups(memberId: string | null): Promise<GroupRow[]> { return access.listGroups(this.db, memberId); }
  async deleteGroup(uuid: string): Promise<void> { access.deleteGroup(this.db, uuid); }
  async listGroupMembers(groupUuid: string): Promise<GroupMemberRow[]> { return access.listGroupMembers(this.db, groupUuid); }
  async putGroupMember(member: GroupMemberRow): Promise<void> { access.putGroupMember(this.db, member); }
  async removeGroupMember(groupUuid: string, userId: string): Promise<boolean> { return access.removeGroupMember(this.db, groupUuid, userId); }
  async listGroupUuidsOf(userId: string): Promise<string[]> { return access.listGroupUuidsOf(this.db, userId); }
  async getGrants(kind: ObjectKind, uuids: readonly string[]): Promise<Map<string, GrantRow[]>> { return access.getGrants(this.db, kind, uuids); }
  async setGrant(kind: ObjectKind, uuids: readonly string[], groupUuid: string, level: Level): Promise<void> { access.setGrant(this.db, kind, uuids, groupUuid, level); }
  async grantedLevels(kind: ObjectKind, userId: string, uuids: readonly string[]): Promise<Map<string, GrantLevel>> { return access.grantedLevels(this.db, kind, userId, uuids); }
  async setBundleOwner(uuids: readonly string[], ownerId: string): Promise<void> { access.setBundleOwner(this.db, uuids, ownerId); }

}

/** ` AND <readable>` with its values, or nothing when every row is visible (root, the system). */
function readableFilter(kind: ObjectKind, uuidSql: string, ownerSql: string, readableBy: string | null): [string, SqlValue[]] {
  if (readableBy === null) return ['', []];
  return [`AND ${access.readableSql(kind, uuidSql, ownerSql)}`, [readableBy, readableBy]];
}
