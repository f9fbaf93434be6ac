// The PostgreSQL store's queries on users, their accounts and tokens (pg-store.ts delegates here,
// to stay small). Each is one statement or one transaction, as in sqlite-users.ts and
// sqlite-user-accounts.ts, whose behaviour they match.
import type pg from 'pg';
import { all, one, run, transaction, type Queryable } from './pg-client.js';
import { toUser } from './sqlite-rows.js';
import type { NewUserRow, TokenKind, TokenRow, UserAccountChange, UserHoldings, UserRow } from './store.js';

export async function insertUser(db: Queryable, user: NewUserRow): Promise<void> {
  await run(db, 'INSERT INTO users (id, user_name, password_hash, is_root, created, email, last_login) VALUES (?, ?, ?, ?, ?, ?, ?)', [
    user.id, user.user_name, user.password_hash, user.is_root ? 1 : 0, user.created, user.email, user.last_login,
  ]);
}

export async function getUserByName(db: Queryable, userName: string): Promise<UserRow | undefined> {
  const row = await one(db, 'SELECT * FROM users WHERE user_name = ?', [userName]);
  return row && toUser(row);
}

export async function getUsersByIds(db: Queryable, ids: readonly string[]): Promise<UserRow[]> {
  if (ids.length === 0) return [];
  return (await all(db, 'SELECT * FROM users WHERE id = ANY(?::text[])', [ids])).map(toUser);
}

export async function listUsers(db: Queryable): Promise<UserRow[]> {
  return (await all(db, 'SELECT * FROM users ORDER BY created, user_name COLLATE "C"')).map(toUser);
}

export async function setUserPassword(db: Queryable, userId: string, passwordHash: string): Promise<void> {
  await run(db, 'UPDATE users SET password_hash = ? WHERE id = ?', [passwordHash, userId]);
}

export async function setUserLastLogin(db: Queryable, userId: string, time: number): Promise<void> {
  await run(db, 'UPDATE users SET last_login = ? WHERE id = ?', [time, userId]);
}

export async function updateUserAccount(pool: pg.Pool, userId: string, change: UserAccountChange): Promise<void> {
  const quotas = change.quotas ?? {};
  const columns: [string, number | null | undefined][] = [
    ['disk_quota', quotas.disk],
    ['time_quota', quotas.time],
    ['parallel_run_quota', quotas.parallel_runs],
    ['is_active', change.is_active === undefined ? undefined : change.is_active ? 1 : 0],
  ];
  const set = columns.filter((c): c is [string, number | null] => c[1] !== undefined);
  await transaction(pool, async (db) => {
    if (set.length > 0) {
      await run(db, `UPDATE users SET ${set.map(([column]) => `${column} = ?`).join(', ')} WHERE id = ?`, [...set.map(([, v]) => v), userId]);
    }
    // Revoked together with the access, so no session outlives it.
    if (change.is_active === false) await run(db, 'DELETE FROM tokens WHERE user_id = ?', [userId]);
  });
}

export async function addUserTimeUsed(db: Queryable, userId: string, seconds: number): Promise<void> {
  await run(db, 'UPDATE users SET time_used = time_used + ? WHERE id = ?', [seconds, userId]);
}

export async function getUserDiskUsage(db: Queryable, userId: string): Promise<{ bundles: number; disk_used: number }> {
  const row = await one<{ bundles: number; disk_used: number }>(
    db,
    'SELECT COUNT(*) AS bundles, COALESCE(SUM(disk_bytes), 0) AS disk_used FROM bundles WHERE owner_id = ?',
    [userId],
  );
  return { bundles: Number(row?.bundles ?? 0), disk_used: Number(row?.disk_used ?? 0) };
}

export async function deleteUserIfOwnsNothing(pool: pg.Pool, userId: string): Promise<UserHoldings> {
  return transaction(pool, async (db): Promise<UserHoldings> => {
    const count = async (sql: string): Promise<number> => Number((await one<{ n: number }>(db, sql, [userId]))?.n ?? 0);
    const holdings: UserHoldings = {
      bundles: await count('SELECT COUNT(*) AS n FROM bundles WHERE owner_id = ?'),
      worksheets: await count(
        'SELECT COUNT(*) AS n FROM worksheets w WHERE owner_id = ? AND EXISTS (SELECT 1 FROM worksheet_items i WHERE i.worksheet_uuid = w.uuid)',
      ),
      workers: await count('SELECT COUNT(*) AS n FROM workers WHERE owner_id = ?'),
      groups: await count('SELECT COUNT(*) AS n FROM groups WHERE owner_id = ?'),
    };
    if (holdings.bundles + holdings.worksheets + holdings.workers + holdings.groups > 0) return holdings;
    await run(db, 'DELETE FROM tokens WHERE user_id = ?', [userId]);
    await run(db, 'DELETE FROM worksheets WHERE owner_id = ?', [userId]);
    await run(db, 'DELETE FROM users WHERE id = ?', [userId]);
    return holdings;
  });
}

export async function insertToken(db: Queryable, tokenHash: string, userId: string, expiresAt: number, kind: TokenKind): Promise<void> {
  await run(db, 'INSERT INTO tokens (token_hash, user_id, expires_at, kind) VALUES (?, ?, ?, ?)', [tokenHash, userId, expiresAt, kind]);
}

export async function getToken(db: Queryable, tokenHash: string): Promise<TokenRow | undefined> {
  return one<TokenRow>(db, 'SELECT user_id, expires_at, kind FROM tokens WHERE token_hash = ?', [tokenHash]);
}

export async function deleteToken(db: Queryable, tokenHash: string): Promise<boolean> {
  return (await run(db, 'DELETE FROM tokens WHERE token_hash = ?', [tokenHash])).rowCount > 0;
}

export async function deleteTokensOfUser(db: Queryable, userId: string): Promise<void> {
  await run(db, 'DELETE FROM tokens WHERE user_id = ?', [userId]);
}

export async function deleteTokensExpiredBefore(db: Queryable, time: number): Promise<void> {
  await run(db, 'DELETE FROM tokens WHERE expires_at < ?', [time]);
}
