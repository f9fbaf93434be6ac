// The PostgreSQL store's connection: a pg.Pool whose numbers come back as JS numbers, `?` marks
// numbered for pg, and one helper for transactions. Holds no queries of its own.
import pg from 'pg';

export type PgValue = string | number | null;
/** A parameter: lists travel as one array (`= ANY(?::text[])`), not a mark each. */
export type PgParam = PgValue | readonly string[];
export type PgRow = Record<string, PgValue>;

/** What queries run on: the pool, or the one client of an open transaction. */
export interface Queryable {
  query(text: string, values?: readonly PgParam[]): Promise<{ rows: PgRow[]; rowCount: number | null }>;
}

// BIGINT (epoch ms, counts) and NUMERIC (SUM of BIGINT) arrive as strings by default, because
// they may exceed 2^53; our values never do, and the Store promises numbers.
const INT8_OID = 20;
const NUMERIC_OID = 1700;
const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
    if (oid === INT8_OID || oid === NUMERIC_OID) return (text: string) => Number(text);
    return format === 'binary' ? pg.types.getTypeParser(oid, 'binary') : pg.types.getTypeParser(oid, 'text');
  }) as pg.CustomTypesConfig['getTypeParser'],
};

export function createPool(url: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, types: typeParsers, max: 10 });
  // An idle client's error (the server restarted) must not crash the process; the next query
  // gets a fresh connection and reports its own error.
  pool.on('error', () => {});
  return pool;
}

/** Numbers SQLite-style `?` marks as `$1, $2, ...`, skipping quoted strings. */
export function numbered(text: string): string {
  let n = 0;
  let quoted = false;
  let out = '';
  for (const ch of text) {
    if (ch === "'") quoted = !quoted;
    out += ch === '?' && !quoted ? `$${++n}` : ch;
  }
  return out;
}

/** Runs `?`-marked SQL. */
export async function run(db: Queryable, text: string, values: readonly PgParam[] = []): Promise<{ rows: PgRow[]; rowCount: number }> {
  const result = await db.query(numbered(text), values);
  return { rows: result.rows, rowCount: result.rowCount ?? 0 };
}

export async function all<T = PgRow>(db: Queryable, text: string, values: readonly PgParam[] = []): Promise<T[]> {
  return (await run(db, text, values)).rows as T[];
}

export async function one<T = PgRow>(db: Queryable, text: string, values: readonly PgParam[] = []): Promise<T | undefined> {
  return (await run(db, text, values)).rows[0] as T | undefined;
}

/** Runs `work` in one transaction on one client: committed when it returns, rolled back when it throws. */
export async function transaction<T>(pool: pg.Pool, work: (db: Queryable) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client as Queryable);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    // The original error is the one worth reporting; a failed rollback only retires the connection.
    await client.query('ROLLBACK').catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.release(broken);
  }
}
