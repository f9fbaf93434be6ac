// ClusterStore on PostgreSQL: the same queries as on SQLite (cluster-store.ts holds them).
import type pg from 'pg';
import { PUT_SERVER_SQL, TAKE_LEASE_SQL, type ClusterStore, type ServerRow } from './cluster-store.js';
import { one, run } from './pg-client.js';

export class PgClusterStore implements ClusterStore {
  constructor(private readonly pool: pg.Pool) {}

  async putServer(row: ServerRow): Promise<void> {
    await run(this.pool, PUT_SERVER_SQL, [row.url, row.secret, row.heartbeat_time]);
  }

  async getServer(url: string): Promise<ServerRow | undefined> {
    const row = await one(this.pool, 'SELECT url, secret, heartbeat_time FROM servers WHERE url = ?', [url]);
    return row && { url: String(row.url), secret: String(row.secret), heartbeat_time: Number(row.heartbeat_time) };
  }

  async removeServer(url: string): Promise<void> {
    await run(this.pool, 'DELETE FROM servers WHERE url = ?', [url]);
  }

  async takeLease(name: string, holder: string, now: number, expires: number): Promise<boolean> {
    return (await run(this.pool, TAKE_LEASE_SQL, [name, holder, expires, now])).rowCount > 0;
  }

  async releaseLease(name: string, holder: string): Promise<void> {
    await run(this.pool, 'DELETE FROM leases WHERE name = ? AND holder = ?', [name, holder]);
  }
}
