// The PostgreSQL store's queries on bundles, their dependencies and worksheets, matching
// sqlite-store.ts statement for statement. Guarded updates put their guard in the WHERE clause,
// so a stale writer changes nothing; multi-row writes run in one transaction.
import type pg from 'pg';
import type { BundleState, Dependency } from '../../protocol/index.js';
import type { ObjectKind } from './access-store.js';
import { all, run, transaction, type PgParam, type PgRow, type Queryable } from './pg-client.js';
import { readableSql } from './sqlite-access.js';
import { boolOrNull, bundleUpdateParts, toBundle } from './sqlite-rows.js';
import type { BundleChange, BundleGuard, BundleRow, NewBundleRow, WorksheetItemRow } from './store.js';

type DependencyRow = Dependency & { child_uuid: string };

const DEPENDENCY_COLUMNS = 'child_uuid, child_path, parent_uuid, parent_path';

export async function insertBundle(pool: pg.Pool, bundle: NewBundleRow, dependencies: readonly Dependency[], worksheetUuid: string | null): Promise<void> {
  await transaction(pool, async (db) => {
    await run(
      db,
      `INSERT INTO bundles (uuid, bundle_type, command, state, owner_id, is_dir, created, last_updated, metadata, name,
         worker_owner_id, worker_id, assignment_id, kill_requested, state_since)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        bundle.uuid, bundle.bundle_type, bundle.command, bundle.state, bundle.owner_id, boolOrNull(bundle.is_dir),
        bundle.created, bundle.last_updated, JSON.stringify(bundle.metadata), bundle.name,
        bundle.worker_owner_id, bundle.worker_id, bundle.assignment_id, bundle.kill_requested ? 1 : 0, bundle.last_updated,
      ],
    );
    for (const dep of dependencies) {
      await run(db, `INSERT INTO bundle_dependencies (${DEPENDENCY_COLUMNS}) VALUES (?, ?, ?, ?)`, [
        bundle.uuid, dep.child_path, dep.parent_uuid, dep.parent_path,
      ]);
    }
    if (worksheetUuid) {
      await run(db, 'INSERT INTO worksheet_items (worksheet_uuid, bundle_uuid) VALUES (?, ?)', [worksheetUuid, bundle.uuid]);
      // A new bundle is shared exactly as the worksheet it lands on (CodaLab's rule).
      await run(
        db,
        'INSERT INTO bundle_permissions (bundle_uuid, group_uuid, permission) SELECT ?::text, group_uuid, permission FROM worksheet_permissions WHERE worksheet_uuid = ?',
        [bundle.uuid, worksheetUuid],
      );
    }
  });
}

export async function selectBundles(db: Queryable, where: string, values: readonly PgParam[]): Promise<BundleRow[]> {
  return (await all<PgRow>(db, `SELECT * FROM bundles WHERE ${where}`, values)).map(toBundle);
}

export async function findBundlesByUuidPrefix(db: Queryable, prefix: string, limit: number, readableBy: string | null): Promise<BundleRow[]> {
  const [filter, values] = readableFilter('bundle', readableBy);
  return selectBundles(db, `uuid ILIKE ?::text || '%' ESCAPE '' ${filter} ORDER BY id DESC LIMIT ?`, [prefix, ...values, limit]);
}

export async function findBundlesByName(db: Queryable, likePattern: string, limit: number, readableBy: string | null): Promise<BundleRow[]> {
  const [filter, values] = readableFilter('bundle', readableBy);
  return selectBundles(db, `name ILIKE ? ESCAPE '\\' ${filter} ORDER BY id DESC LIMIT ?`, [likePattern, ...values, limit]);
}

export async function updateBundle(db: Queryable, uuid: string, change: BundleChange, guard: BundleGuard): Promise<boolean> {
  const { sets, values, where, whereValues } = bundleUpdateParts<PgParam>(uuid, change, guard, (states) => ({ sql: 'state = ANY(?::text[])', values: [[...states]] }));
  // jsonb's || replaces top-level keys and keeps a null value as null, as the Store promises.
  if (change.metadata !== undefined) {
    sets.push('metadata = (metadata::jsonb || ?::jsonb)::text');
    values.push(JSON.stringify(change.metadata));
  }
  const result = await run(db, `UPDATE bundles SET ${sets.join(', ')} WHERE ${where.join(' AND ')}`, [...values, ...whereValues]);
  return result.rowCount > 0;
}

/** One statement for all: a pass over thousands of waiting runs costs one round trip, not one each. */
export async function setStagedStatuses(db: Queryable, statuses: ReadonlyMap<string, string>, time: number): Promise<void> {
  if (statuses.size === 0) return;
  await run(
    db,
    `UPDATE bundles AS b SET last_updated = ?, metadata = (b.metadata::jsonb || jsonb_build_object('staged_status', v.status))::text
     FROM unnest(?::text[], ?::text[]) AS v(uuid, status) WHERE b.uuid = v.uuid AND b.state = 'staged'`,
    [time, [...statuses.keys()], [...statuses.values()]],
  );
}

export async function getDependencies(db: Queryable, childUuids: readonly string[]): Promise<DependencyRow[]> {
  if (childUuids.length === 0) return [];
  return all<DependencyRow>(db, `SELECT ${DEPENDENCY_COLUMNS} FROM bundle_dependencies WHERE child_uuid = ANY(?::text[]) ORDER BY seq`, [childUuids]);
}

export async function getDependents(db: Queryable, parentUuids: readonly string[]): Promise<DependencyRow[]> {
  if (parentUuids.length === 0) return [];
  return all<DependencyRow>(db, `SELECT ${DEPENDENCY_COLUMNS} FROM bundle_dependencies WHERE parent_uuid = ANY(?::text[]) ORDER BY seq`, [parentUuids]);
}

export async function deleteBundles(pool: pg.Pool, uuids: readonly string[]): Promise<void> {
  if (uuids.length === 0) return;
  await transaction(pool, async (db) => {
    await run(db, 'DELETE FROM bundle_dependencies WHERE child_uuid = ANY(?::text[])', [uuids]);
    await run(db, 'DELETE FROM worksheet_items WHERE bundle_uuid = ANY(?::text[])', [uuids]);
    await run(db, 'DELETE FROM bundles WHERE uuid = ANY(?::text[])', [uuids]);
  });
}

export async function getHostWorksheets(db: Queryable, bundleUuids: readonly string[]): Promise<Map<string, string[]>> {
  const hosts = new Map<string, string[]>();
  if (bundleUuids.length === 0) return hosts;
  const rows = await all<{ bundle_uuid: string; worksheet_uuid: string }>(
    db,
    'SELECT DISTINCT bundle_uuid, worksheet_uuid FROM worksheet_items WHERE bundle_uuid = ANY(?::text[])',
    [bundleUuids],
  );
  for (const row of rows) hosts.set(row.bundle_uuid, [...(hosts.get(row.bundle_uuid) ?? []), row.worksheet_uuid]);
  return hosts;
}

export async function listBundlesInStates(db: Queryable, states: readonly BundleState[]): Promise<BundleRow[]> {
  return selectBundles(db, 'state = ANY(?::text[]) ORDER BY id', [[...states]]);
}

export async function listWorksheetItems(db: Queryable, worksheetUuid: string): Promise<WorksheetItemRow[]> {
  return all<WorksheetItemRow>(
    db,
    `SELECT i.id, i.item_type, i.bundle_uuid, i.value FROM worksheet_items i
     WHERE i.worksheet_uuid = ? AND (i.item_type <> 'bundle' OR EXISTS (SELECT 1 FROM bundles b WHERE b.uuid = i.bundle_uuid))
     ORDER BY i.id`,
    [worksheetUuid],
  );
}

export async function removeWorksheetBundleItems(pool: pg.Pool, worksheetUuid: string, bundleUuid: string, index: number | null): Promise<number> {
  // One transaction: SQLite runs the pick and the delete with no writer in between, and so must this.
  return transaction(pool, async (db) => {
    const ids = (
      await all<{ id: number }>(
        db,
        "SELECT id FROM worksheet_items WHERE worksheet_uuid = ? AND bundle_uuid = ? AND item_type = 'bundle' ORDER BY id DESC FOR UPDATE",
        [worksheetUuid, bundleUuid],
      )
    ).map((r) => r.id);
    const chosen = index === null ? ids : ids.slice(index - 1, index);
    if (chosen.length === 0) return 0;
    await run(db, 'DELETE FROM worksheet_items WHERE id = ANY(?::bigint[])', [chosen.map(String)]);
    return chosen.length;
  });
}

/** ` AND <readable>` with its values, or nothing when every row is visible (root, the system). */
export function readableFilter(kind: ObjectKind, readableBy: string | null): [string, PgParam[]] {
  if (readableBy === null) return ['', []];
  return [`AND ${readableSql(kind, 'uuid', 'owner_id')}`, [readableBy, readableBy]];
}
