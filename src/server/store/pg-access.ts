// The PostgreSQL side of groups and permissions (access-store.ts), matching sqlite-access.ts
// statement for statement. The readable-by condition is the same SQL text (readableSql), so
// listings, searches and permission checks agree on both engines.
import type pg from 'pg';
import { all, one, run, transaction, type PgRow, type Queryable } from './pg-client.js';
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

export async function insertGroup(pool: pg.Pool, group: GroupRow): Promise<void> {
  await transaction(pool, async (db) => {
    await run(db, 'INSERT INTO groups (uuid, name, owner_id, created) VALUES (?, ?, ?, ?)', [group.uuid, group.name, group.owner_id, group.created]);
    if (group.owner_id !== null) {
      await run(db, 'INSERT INTO group_members (group_uuid, user_id, is_admin) VALUES (?, ?, 1)', [group.uuid, group.owner_id]);
    }
  });
}

export async function getGroups(db: Queryable, uuids: readonly string[]): Promise<GroupRow[]> {
  if (uuids.length === 0) return [];
  return all<GroupRow>(db, 'SELECT * FROM groups WHERE uuid = ANY(?::text[])', [uuids]);
}

export async function getGroupByName(db: Queryable, name: string): Promise<GroupRow | undefined> {
  return one<GroupRow>(db, 'SELECT * FROM groups WHERE name = ?', [name]);
}

export async function findGroupsByUuidPrefix(db: Queryable, prefix: string, limit: number): Promise<GroupRow[]> {
  return all<GroupRow>(db, `SELECT * FROM groups WHERE uuid ILIKE ? ESCAPE '\\' ORDER BY uuid COLLATE "C" LIMIT ?`, [`${prefix}%`, limit]);
}

export async function listGroups(db: Queryable, memberId: string | null): Promise<GroupRow[]> {
  if (memberId === null) return all<GroupRow>(db, 'SELECT * FROM groups WHERE uuid != ? ORDER BY name COLLATE "C"', [PUBLIC_GROUP_UUID]);
  return all<GroupRow>(
    db,
    'SELECT g.* FROM groups g JOIN group_members m ON m.group_uuid = g.uuid WHERE m.user_id = ? ORDER BY g.name COLLATE "C"',
    [memberId],
  );
}

export async function deleteGroup(db: Queryable, uuid: string): Promise<void> {
  // Memberships and grants go with it (ON DELETE CASCADE).
  await run(db, 'DELETE FROM groups WHERE uuid = ?', [uuid]);
}

export async function listGroupMembers(db: Queryable, groupUuid: string): Promise<GroupMemberRow[]> {
  const rows = await all<PgRow>(db, 'SELECT * FROM group_members WHERE group_uuid = ? ORDER BY is_admin DESC, user_id COLLATE "C"', [groupUuid]);
  return rows.map((r) => ({ group_uuid: String(r.group_uuid), user_id: String(r.user_id), is_admin: r.is_admin === 1 }));
}

export async function putGroupMember(db: Queryable, member: GroupMemberRow): Promise<void> {
  await run(
    db,
    'INSERT INTO group_members (group_uuid, user_id, is_admin) VALUES (?, ?, ?) ON CONFLICT (group_uuid, user_id) DO UPDATE SET is_admin = excluded.is_admin',
    [member.group_uuid, member.user_id, member.is_admin ? 1 : 0],
  );
}

export async function removeGroupMember(db: Queryable, groupUuid: string, userId: string): Promise<boolean> {
  return (await run(db, 'DELETE FROM group_members WHERE group_uuid = ? AND user_id = ?', [groupUuid, userId])).rowCount > 0;
}

export async function listGroupUuidsOf(db: Queryable, userId: string): Promise<string[]> {
  return (await all<{ group_uuid: string }>(db, 'SELECT group_uuid FROM group_members WHERE user_id = ?', [userId])).map((r) => r.group_uuid);
}

export async function getGrants(db: Queryable, kind: ObjectKind, uuids: readonly string[]): Promise<Map<string, GrantRow[]>> {
  const out = new Map<string, GrantRow[]>();
  if (uuids.length === 0) return out;
  const { table, column } = TABLES[kind];
  const rows = await all<GrantRow>(
    db,
    `SELECT p.${column} AS object_uuid, p.group_uuid, g.name AS group_name, p.permission FROM ${table} p
     JOIN groups g ON g.uuid = p.group_uuid WHERE p.${column} = ANY(?::text[]) ORDER BY g.name COLLATE "C"`,
    [uuids],
  );
  for (const row of rows) out.set(row.object_uuid, [...(out.get(row.object_uuid) ?? []), row]);
  return out;
}

export async function setGrant(pool: pg.Pool, kind: ObjectKind, uuids: readonly string[], groupUuid: string, level: Level): Promise<void> {
  const { table, column } = TABLES[kind];
  await transaction(pool, async (db) => {
    for (const uuid of uuids) {
      if (level === 0) await run(db, `DELETE FROM ${table} WHERE ${column} = ? AND group_uuid = ?`, [uuid, groupUuid]);
      else {
        await run(
          db,
          `INSERT INTO ${table} (${column}, group_uuid, permission) VALUES (?, ?, ?) ON CONFLICT (${column}, group_uuid) DO UPDATE SET permission = excluded.permission`,
          [uuid, groupUuid, level],
        );
      }
    }
  });
}

export async function grantedLevels(db: Queryable, kind: ObjectKind, userId: string, uuids: readonly string[]): Promise<Map<string, GrantLevel>> {
  const out = new Map<string, GrantLevel>();
  if (uuids.length === 0) return out;
  const { table, column } = TABLES[kind];
  const rows = await all<{ uuid: string; level: GrantLevel }>(
    db,
    `SELECT ${column} AS uuid, MAX(permission) AS level FROM ${table} WHERE ${column} = ANY(?::text[])
     AND (group_uuid = ? OR group_uuid IN (SELECT group_uuid FROM group_members WHERE user_id = ?)) GROUP BY ${column}`,
    [uuids, PUBLIC_GROUP_UUID, userId],
  );
  for (const row of rows) out.set(row.uuid, row.level);
  return out;
}

export async function setBundleOwner(db: Queryable, uuids: readonly string[], ownerId: string): Promise<void> {
  if (uuids.length === 0) return;
  await run(db, 'UPDATE bundles SET owner_id = ? WHERE uuid = ANY(?::text[])', [ownerId, uuids]);
}
