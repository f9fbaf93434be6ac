// ClusterStore on SQLite: the same queries as on PostgreSQL (cluster-store.ts holds them).
import type Database from 'better-sqlite3';
import { PUT_SERVER_SQL, TAKE_LEASE_SQL, type ClusterStore, type ServerRow } from './cluster-store.js';

export class SqliteClusterStore implements ClusterStore {
  constructor(private readonly db: Database.Database) {}

  async putServer(row: ServerRow): Promise<void> {
    this.db.prepare(PUT_SERVER_SQL).run(row.url, row.secret, row.heartbeat_time);
  }

  async getServer(url: string): Promise<ServerRow | undefined> {
    const row = this.db.prepare('SELECT url, secret, heartbeat_time FROM servers WHERE url = ?').get(url) as ServerRow | undefined;
    return row && { url: row.url, secret: row.secret, heartbeat_time: Number(row.heartbeat_time) };
  }

  async removeServer(url: string): Promise<void> {
    this.db.prepare('DELETE FROM servers WHERE url = ?').run(url);
  }

  async takeLease(name: string, holder: string, now: number, expires: number): Promise<boolean> {
    return this.db.prepare(TAKE_LEASE_SQL).run(name, holder, expires, now).changes > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    this.db.prepare('DELETE FROM leases WHERE name = ? AND holder = ?').run(name, holder);
  }
}
