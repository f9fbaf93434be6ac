// The SQLite store's queries on users and tokens (sqlite-store.ts delegates here, to stay small).
// Each is one statement or one transaction.
import type Database from 'better-sqlite3';
import { toUser, type Raw } from './sqlite-rows.js';
import type { NewUserRow, TokenKind, TokenRow, UserHoldings, UserRow } from './store.js';

export function insertUser(db: Database.Database, user: NewUserRow): void {
  db.prepare('INSERT INTO users (id, user_name, password_hash, is_root, created, email, last_login) VALUES (?, ?, ?, ?, ?, ?, ?)').run(
    user.id,
    user.user_name,
    user.password_hash,
    user.is_root ? 1 : 0,
    user.created,
    user.email,
    user.last_login,
  );
}

export function listUsers(db: Database.Database): UserRow[] {
  return (db.prepare('SELECT * FROM users ORDER BY created, user_name').all() as Raw[]).map(toUser);
}

export function setUserPassword(db: Database.Database, userId: string, passwordHash: string): void {
  db.prepare('UPDATE users SET password_hash = ? WHERE id = ?').run(passwordHash, userId);
}

export function setUserLastLogin(db: Database.Database, userId: string, time: number): void {
  db.prepare('UPDATE users SET last_login = ? WHERE id = ?').run(time, userId);
}

export function deleteUserIfOwnsNothing(db: Database.Database, userId: string): UserHoldings {
  return db.transaction((): UserHoldings => {
    const count = (sql: string): number => (db.prepare(sql).get(userId) as { n: number }).n;
    const holdings: UserHoldings = {
      bundles: count('SELECT COUNT(*) AS n FROM bundles WHERE owner_id = ?'),
      worksheets: count(
        'SELECT COUNT(*) AS n FROM worksheets w WHERE owner_id = ? AND EXISTS (SELECT 1 FROM worksheet_items i WHERE i.worksheet_uuid = w.uuid)',
      ),
      workers: count('SELECT COUNT(*) AS n FROM workers WHERE owner_id = ?'),
      groups: count('SELECT COUNT(*) AS n FROM groups WHERE owner_id = ?'),
    };
    if (holdings.bundles + holdings.worksheets + holdings.workers + holdings.groups > 0) return holdings;
    db.prepare('DELETE FROM tokens WHERE user_id = ?').run(userId);
    db.prepare('DELETE FROM worksheets WHERE owner_id = ?').run(userId);
    db.prepare('DELETE FROM users WHERE id = ?').run(userId);
    return holdings;
  })();
}

export function insertToken(db: Database.Database, tokenHash: string, userId: string, expiresAt: number, kind: TokenKind): void {
  db.prepare('INSERT INTO tokens (token_hash, user_id, expires_at, kind) VALUES (?, ?, ?, ?)').run(tokenHash, userId, expiresAt, kind);
}

export function getToken(db: Database.Database, tokenHash: string): TokenRow | undefined {
  return db.prepare('SELECT user_id, expires_at, kind FROM tokens WHERE token_hash = ?').get(tokenHash) as TokenRow | undefined;
}

export function deleteToken(db: Database.Database, tokenHash: string): boolean {
  return db.prepare('DELETE FROM tokens WHERE token_hash = ?').run(tokenHash).changes > 0;
}

export function deleteTokensOfUser(db: Database.Database, userId: string): void {
  db.prepare('DELETE FROM tokens WHERE user_id = ?').run(userId);
}
