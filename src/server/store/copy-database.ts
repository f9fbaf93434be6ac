// `cl-server copy-database`: copies an SQLite instance into an empty PostgreSQL database, table by
// table in one PostgreSQL transaction, so a failed copy leaves the target as empty as it was. Both
// sides are first migrated to the same schema; rows are copied as stored (ids, order, JSON text).
// It never writes to the source beyond bringing its schema up to date, as a server start would.
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { PUBLIC_GROUP_UUID } from './access-store.js';
import { all, createPool, run, transaction, type PgValue, type Queryable } from './pg-client.js';
import { PgStore } from './pg-store.js';
import { SqliteStore } from './sqlite-store.js';

/** Every table, parents before the tables whose foreign keys name them. */
const TABLES_IN_ORDER = [
  'users', 'tokens', 'worksheets', 'groups', 'group_members', 'bundles', 'bundle_dependencies', 'worksheet_items',
  'workers', 'bundle_permissions', 'worksheet_permissions',
] as const;

/** Who is running and who schedules: facts about the servers of the moment, not data to carry over. */
const RUNTIME_TABLES: readonly string[] = ['servers', 'leases'];

/** Identity columns whose sequences must continue after the copied ids. */
const IDENTITY_COLUMNS: readonly [string, string][] = [['bundles', 'id'], ['worksheet_items', 'id']];

/** Most bound values in one INSERT (PostgreSQL allows 65535). */
const MAX_VALUES_PER_INSERT = 30_000;

export class CopyDatabaseError extends Error {}

/** Rows copied, by table. */
export type CopySummary = Record<string, number>;

export async function copyDatabase(sqlitePath: string, postgresUrl: string): Promise<CopySummary> {
  if (!existsSync(sqlitePath)) throw new CopyDatabaseError(`No SQLite database at ${sqlitePath}; name it with --from sqlite:PATH.`);
  await migrated(new SqliteStore(sqlitePath));
  await migrated(new PgStore(postgresUrl));
  const source = new Database(sqlitePath, { readonly: true, fileMustExist: true });
  const pool = createPool(postgresUrl);
  try {
    checkKnownTables(source);
    await refuseNonEmpty(pool);
    return await transaction(pool, async (db) => {
      const summary: CopySummary = {};
      for (const table of TABLES_IN_ORDER) summary[table] = await copyTable(source, db, table);
      for (const [table, column] of IDENTITY_COLUMNS) {
        await run(db, `SELECT setval(pg_get_serial_sequence('${table}', '${column}'), (SELECT COALESCE(MAX(${column}), 0) + 1 FROM ${table}), false)`);
      }
      return summary;
    });
  } finally {
    source.close();
    await pool.end();
  }
}

async function migrated(store: SqliteStore | PgStore): Promise<void> {
  try {
    await store.migrate();
  } finally {
    await store.close();
  }
}

/** A table this command does not know (added by a later migration) would be lost: refuse instead. */
function checkKnownTables(source: Database.Database): void {
  const names = (source.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[])
    .map((r) => r.name)
    .filter((name) => name !== 'schema_migrations' && !RUNTIME_TABLES.includes(name));
  const unknown = names.filter((name) => !(TABLES_IN_ORDER as readonly string[]).includes(name));
  if (unknown.length > 0) throw new CopyDatabaseError(`copy-database does not know table ${unknown.join(', ')}; use the cl-server of the same version as the database.`);
}

async function refuseNonEmpty(pool: Queryable): Promise<void> {
  for (const table of TABLES_IN_ORDER) {
    // The public group is made by the migrations themselves.
    const filter = table === 'groups' ? `WHERE uuid <> '${PUBLIC_GROUP_UUID}'` : '';
    const [row] = await all<{ n: number }>(pool, `SELECT COUNT(*) AS n FROM ${table} ${filter}`);
    if ((row?.n ?? 0) > 0) {
      throw new CopyDatabaseError(`The target database is not empty (${row?.n} rows in ${table}); copy into a new, empty database.`);
    }
  }
}

async function copyTable(source: Database.Database, target: Queryable, table: string): Promise<number> {
  const targetColumns = new Set(
    (await all<{ column_name: string }>(
      target,
      "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? AND is_generated = 'NEVER'",
      [table],
    )).map((r) => r.column_name),
  );
  // table_info leaves out SQLite's generated columns, which PostgreSQL computes again.
  const columns = (source.prepare(`PRAGMA table_info(${table})`).all() as { name: string }[])
    .map((c) => c.name)
    .filter((name) => targetColumns.has(name));
  const filter = table === 'groups' ? `WHERE uuid <> '${PUBLIC_GROUP_UUID}'` : '';
  const rows = source.prepare(`SELECT ${columns.join(', ')} FROM ${table} ${filter} ORDER BY rowid`).raw().all() as PgValue[][];
  const perInsert = Math.max(1, Math.floor(MAX_VALUES_PER_INSERT / columns.length));
  for (let start = 0; start < rows.length; start += perInsert) {
    const chunk = rows.slice(start, start + perInsert);
    const tuples = chunk.map(() => `(${columns.map(() => '?').join(', ')})`).join(', ');
    await run(target, `INSERT INTO ${table} (${columns.join(', ')}) VALUES ${tuples}`, chunk.flat());
  }
  return rows.length;
}
