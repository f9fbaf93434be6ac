// The SQLite side of groups and permissions (access-store.ts). Each write is one statement or one
// transaction; the readable-by condition is shared with searches so that listings and lookups can
// never disagree with the permission checks.
import type Database from 'better-sqlite3';
import { marks, type Raw } from './sqlite-rows.js';
import {
  PUBLIC_GROUP_UUID,
  type GrantLevel,
  type GrantRow,
  type GroupMemberRow,
  type GroupRow,
  type Level,
  type ObjectKind,
} from './access-store.js';

const TABLES: Record<ObjectKind, { table: string; column: string }> = {
  bundle: { table: 'bundle_permissions', column: 'bundle_uuid' },
  worksheet: { table: 'worksheet_permissions', column: 'worksheet_uuid' },
};

/**
 * SQL true when the user may read the object whose uuid is `uuidSql` (a column such as `b.uuid`)
 * and whose owner is `ownerSql`: they own it, or public or one of their groups has a grant. Takes
 * the user id twice, in order.
 */
export function readableSql(kind: ObjectKind, uuidSql: string, ownerSql: string): string {
  const { table, column } = TABLES[kind];
  return `(${ownerSql} = ? OR EXISTS (SELECT 1 FROM ${table} p WHERE p.${column} = ${uuidSql} AND (p.group_uuid = '${PUBLIC_GROUP_UUID}'
    OR p.group_uuid IN (SELECT m.group_uuid FROM group_members m WHERE m.user_id = ?))))`;
}

export function insertGroup(db: Database.Database, group: GroupRow): void {
  db.transaction(() => {
    db.prepare('INSERT INTO groups (uuid, name, owner_id, created) VALUES (?, ?, ?, ?)').run(group.uuid, group.name, group.owner_id, group.created);
    if (group.owner_id !== null) {
      db.prepare('INSERT INTO group_members (group_uuid, user_id, is_admin) VALUES (?, ?, 1)').run(group.uuid, group.owner_id);
    }
  })();
}

export function getGroups(db: Database.Database, uuids: readonly string[]): GroupRow[] {
  if (uuids.length === 0) return [];
  return db.prepare(`SELECT * FROM groups WHERE uuid IN (${marks(uuids)})`).all(...uuids) as GroupRow[];
}

export function getGroupByName(db: Database.Database, name: string): GroupRow | undefined {
  return db.prepare('SELECT * FROM groups WHERE name = ?').get(name) as GroupRow | undefined;
}

export function findGroupsByUuidPrefix(db: Database.Database, prefix: string, limit: number): GroupRow[] {
  return db.prepare("SELECT * FROM groups WHERE uuid LIKE ? ESCAPE '\\' ORDER BY uuid LIMIT ?").all(`${prefix}%`, limit) as GroupRow[];
}

export function listGroups(db: Database.Database, memberId: string | null): GroupRow[] {
  if (memberId === null) return db.prepare('SELECT * FROM groups WHERE uuid != ? ORDER BY name').all(PUBLIC_GROUP_UUID) as GroupRow[];
  return db
    .prepare('SELECT g.* FROM groups g JOIN group_members m ON m.group_uuid = g.uuid WHERE m.user_id = ? ORDER BY g.name')
    .all(memberId) as GroupRow[];
}

export function deleteGroup(db: Database.Database, uuid: string): void {
  // Memberships and grants go with it (ON DELETE CASCADE).
  db.prepare('DELETE FROM groups WHERE uuid = ?').run(uuid);
}

export function listGroupMembers(db: Database.Database, groupUuid: string): GroupMemberRow[] {
  const rows = db.prepare('SELECT * FROM group_members WHERE group_uuid = ? ORDER BY is_admin DESC, user_id').all(groupUuid) as Raw[];
  return rows.map((r) => ({ group_uuid: String(r.group_uuid), user_id: String(r.user_id), is_admin: r.is_admin === 1 }));
}

export function putGroupMember(db: Database.Database, member: GroupMemberRow): void {
  db.prepare(
    'INSERT INTO group_members (group_uuid, user_id, is_admin) VALUES (?, ?, ?) ON CONFLICT (group_uuid, user_id) DO UPDATE SET is_admin = excluded.is_admin',
  ).run(member.group_uuid, member.user_id, member.is_admin ? 1 : 0);
}

export function removeGroupMember(db: Database.Database, groupUuid: string, userId: string): boolean {
  return db.prepare('DELETE FROM group_members WHERE group_uuid = ? AND user_id = ?').run(groupUuid, userId).changes > 0;
}

export function listGroupUuidsOf(db: Database.Database, userId: string): string[] {
  return (db.prepare('SELECT group_uuid FROM group_members WHERE user_id = ?').all(userId) as { group_uuid: string }[]).map((r) => r.group_uuid);
}

export function getGrants(db: Database.Database, kind: ObjectKind, uuids: readonly string[]): Map<string, GrantRow[]> {
  const out = new Map<string, GrantRow[]>();
  if (uuids.length === 0) return out;
  const { table, column } = TABLES[kind];
  const rows = db
    .prepare(
      `SELECT p.${column} AS object_uuid, p.group_uuid, g.name AS group_name, p.permission FROM ${table} p
       JOIN groups g ON g.uuid = p.group_uuid WHERE p.${column} IN (${marks(uuids)}) ORDER BY g.name`,
    )
    .all(...uuids) as GrantRow[];
  for (const row of rows) out.set(row.object_uuid, [...(out.get(row.object_uuid) ?? []), row]);
  return out;
}

export function setGrant(db: Database.Database, kind: ObjectKind, uuids: readonly string[], groupUuid: string, level: Level): void {
  const { table, column } = TABLES[kind];
  const remove = db.prepare(`DELETE FROM ${table} WHERE ${column} = ? AND group_uuid = ?`);
  const put = db.prepare(
    `INSERT INTO ${table} (${column}, group_uuid, permission) VALUES (?, ?, ?) ON CONFLICT (${column}, group_uuid) DO UPDATE SET permission = excluded.permission`,
  );
  db.transaction(() => {
    for (const uuid of uuids) {
      if (level === 0) remove.run(uuid, groupUuid);
      else put.run(uuid, groupUuid, level);
    }
  })();
}

export function grantedLevels(db: Database.Database, kind: ObjectKind, userId: string, uuids: readonly string[]): Map<string, GrantLevel> {
  const out = new Map<string, GrantLevel>();
  if (uuids.length === 0) return out;
  const { table, column } = TABLES[kind];
  const rows = db
    .prepare(
      `SELECT ${column} AS uuid, MAX(permission) AS level FROM ${table} WHERE ${column} IN (${marks(uuids)})
       AND (group_uuid = ? OR group_uuid IN (SELECT group_uuid FROM group_members WHERE user_id = ?)) GROUP BY ${column}`,
    )
    .all(...uuids, PUBLIC_GROUP_UUID, userId) as { uuid: string; level: GrantLevel }[];
  for (const row of rows) out.set(row.uuid, row.level);
  return out;
}

export function setBundleOwner(db: Database.Database, uuids: readonly string[], ownerId: string): void {
  if (uuids.length === 0) return;
  db.prepare(`UPDATE bundles SET owner_id = ? WHERE uuid IN (${marks(uuids)})`).run(ownerId, ...uuids);
}
