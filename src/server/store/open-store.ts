// Picks the Store for `--database-url`: a postgres:// or postgresql:// URL opens PgStore, anything
// else is the SQLite file path that server-args.ts resolved. The one place that knows both engines.
import { isPostgresUrl } from './database-url.js';
import { PgStore } from './pg-store.js';
import { SqliteStore } from './sqlite-store.js';
import type { Store } from './store.js';

/** The store, not yet migrated. */
export function openStore(databaseUrl: string): Store {
  return isPostgresUrl(databaseUrl) ? new PgStore(databaseUrl) : new SqliteStore(databaseUrl);
}
