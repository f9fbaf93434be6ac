// The Store's share of running several servers on one database (migration 011): who the servers
// are and how to reach them, and leases that let exactly one of them do a job at a time.

export interface ServerRow {
  /** The URL its peers reach it at (`--advertise-url`); also its identity. */
  url: string;
  /** Presented by a peer that forwards a request to this server. */
  secret: string;
  heartbeat_time: number;
}

export interface ClusterStore {
  putServer(row: ServerRow): Promise<void>;
  getServer(url: string): Promise<ServerRow | undefined>;
  removeServer(url: string): Promise<void>;
  /**
   * Takes lease `name` for `holder` until `expires` when nobody holds it, its holder let it expire
   * before `now`, or `holder` holds it already (a renewal); true when `holder` holds it now.
   */
  takeLease(name: string, holder: string, now: number, expires: number): Promise<boolean>;
  /** Ends `holder`'s lease at once, so another server need not wait for it to expire. */
  releaseLease(name: string, holder: string): Promise<void>;
}

/** The SQL both engines run for a lease: an upsert that overwrites only an own or expired lease. */
export const TAKE_LEASE_SQL =
  `INSERT INTO leases (name, holder, expires) VALUES (?, ?, ?)
   ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires = excluded.expires
   WHERE leases.holder = excluded.holder OR leases.expires < ?`;

export const PUT_SERVER_SQL =
  `INSERT INTO servers (url, secret, heartbeat_time) VALUES (?, ?, ?)
   ON CONFLICT (url) DO UPDATE SET secret = excluded.secret, heartbeat_time = excluded.heartbeat_time`;
