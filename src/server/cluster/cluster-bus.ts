// What one server tells the others sharing its database, so that each reacts at once to what
// another changed: a store change (wakes waiting requests; the scheduler's pass), and work queued
// for a worker (wakes that worker's long poll, wherever it rests). On PostgreSQL the events travel
// by LISTEN/NOTIFY; a single SQLite server has nobody to tell.
import pg from 'pg';
import type { Logger } from '../../common/log.js';

export type ClusterEvent = { kind: 'change' } | { kind: 'worker'; key: string };

export interface ClusterBus {
  publish(event: ClusterEvent): void;
  close(): Promise<void>;
}

export const NO_PEERS: ClusterBus = {
  publish: () => {},
  close: async () => {},
};

const CHANNEL = 'codalab_cluster';
/** NOTIFY payloads must stay under 8000 bytes; a batch is split well below that. */
const MAX_PAYLOAD_CHARS = 6_000;
const RECONNECT_MS = 1_000;
/**
 * Events are gathered this long and sent as one notification: a busy server (hundreds of
 * check-ins a second, each maybe news) then costs the database a few notifications a second,
 * not one per change, for a delay its peers do not notice.
 */
const BATCH_MS = 20;

interface Envelope {
  from: string;
  events: ClusterEvent[];
}

/**
 * Events by PostgreSQL notification on one connection of its own. Events published within
 * BATCH_MS go out as one notification, without repeats, one batch at a time. While the connection is down
 * nothing is lost for good: on reconnecting, `onResync` makes the server re-check everything, as
 * after a missed event; the periodic polls cover the gap meanwhile.
 */
export class PgBus implements ClusterBus {
  private client: pg.Client | null = null;
  private queued = new Map<string, ClusterEvent>();
  private flushing = false;
  private closed = false;

  private constructor(
    private readonly url: string,
    private readonly self: string,
    private readonly onEvent: (event: ClusterEvent) => void,
    private readonly onResync: () => void,
    private readonly log: Logger,
  ) {}

  static async start(url: string, self: string, onEvent: (event: ClusterEvent) => void, onResync: () => void, log: Logger): Promise<PgBus> {
    const bus = new PgBus(url, self, onEvent, onResync, log);
    await bus.connect();
    return bus;
  }

  publish(event: ClusterEvent): void {
    this.queued.set(event.kind === 'change' ? 'change' : `worker:${event.key}`, event);
    this.scheduleFlush();
  }

  /** One batch at a time: what comes in while a batch is sent goes in the next. */
  private scheduleFlush(): void {
    if (this.flushing || this.queued.size === 0) return;
    this.flushing = true;
    setTimeout(() => {
      void this.flush().finally(() => {
        this.flushing = false;
        this.scheduleFlush();
      });
    }, BATCH_MS);
  }

  async close(): Promise<void> {
    this.closed = true;
    const client = this.client;
    this.client = null;
    await client?.end().catch(() => {});
  }

  private async flush(): Promise<void> {
    const events = [...this.queued.values()];
    this.queued = new Map();
    const client = this.client;
    if (client === null || events.length === 0) return;
    for (const payload of batches(this.self, events)) {
      try {
        await client.query('SELECT pg_notify($1, $2)', [CHANNEL, payload]);
      } catch (error) {
        // The other servers' polls catch up; the connection's own error handler reconnects.
        this.log.warn(`could not tell the other servers of a change: ${(error as Error).message}`);
        return;
      }
    }
  }

  private async connect(): Promise<void> {
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (message) => this.receive(message.payload));
    client.on('error', (error) => this.lost(client, error));
    client.on('end', () => this.lost(client, new Error('the connection ended')));
    await client.connect();
    await client.query(`LISTEN ${CHANNEL}`);
    this.client = client;
  }

  private lost(client: pg.Client, error: Error): void {
    if (this.client !== client || this.closed) return;
    this.client = null;
    this.log.warn(`lost the connection that hears the other servers (${error.message}); reconnecting`);
    client.end().catch(() => {});
    this.reconnectLater();
  }

  private reconnectLater(): void {
    setTimeout(() => {
      if (this.closed) return;
      this.connect().then(
        () => {
          this.log.info('hears the other servers again');
          this.onResync();
        },
        () => this.reconnectLater(),
      );
    }, RECONNECT_MS).unref();
  }

  private receive(payload: string | undefined): void {
    let envelope: Envelope;
    try {
      envelope = JSON.parse(payload ?? '') as Envelope;
    } catch {
      return;
    }
    // A server's own events took effect when it published them.
    if (envelope.from === this.self || !Array.isArray(envelope.events)) return;
    for (const event of envelope.events) {
      if (event.kind === 'change' || (event.kind === 'worker' && typeof event.key === 'string')) this.onEvent(event);
    }
  }
}

/** The events as payloads under the size limit. */
function batches(from: string, events: readonly ClusterEvent[]): string[] {
  const payloads: string[] = [];
  let batch: ClusterEvent[] = [];
  for (const event of events) {
    batch.push(event);
    if (JSON.stringify({ from, events: batch }).length > MAX_PAYLOAD_CHARS && batch.length > 1) {
      batch.pop();
      payloads.push(JSON.stringify({ from, events: batch }));
      batch = [event];
    }
  }
  if (batch.length > 0) payloads.push(JSON.stringify({ from, events: batch }));
  return payloads;
}
