// Keeps prepared statements for reuse: preparing one costs more than running most of our queries,
// and a check-in or scheduling pass runs the same dozen statements each time. Statements are run
// to completion (all/get/run, never iterate) and never switched to pluck or raw mode, so sharing
// one between callers is safe.
import type Database from 'better-sqlite3';

/** Past this many distinct SQL texts (IN lists of every length) the cache starts afresh. */
const MAX_STATEMENTS = 500;

/** Makes `db.prepare` answer from a cache keyed by SQL text. */
export function cacheStatements(db: Database.Database): void {
  const prepare = db.prepare.bind(db);
  const cache = new Map<string, Database.Statement>();
  const cached = (sql: string): Database.Statement => {
    let statement = cache.get(sql);
    if (statement === undefined) {
      statement = prepare(sql);
      if (cache.size >= MAX_STATEMENTS) cache.clear();
      cache.set(sql, statement);
    }
    return statement;
  };
  db.prepare = cached as Database.Database['prepare'];
}
