// A server of a shared database lists itself in the servers table (its advertised URL and a
// secret for its peers), keeps its row fresh while it runs, and removes it when it stops.
import { randomBytes } from 'node:crypto';
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/log.js';
import type { ClusterStore } from '../store/cluster-store.js';

const HEARTBEAT_MS = 5_000;
/** A server whose row is older than this is taken for gone: nothing is forwarded to it. */
export const PEER_SILENT_MS = 4 * HEARTBEAT_MS;

export class Membership {
  readonly secret = randomBytes(24).toString('base64url');
  private timer: NodeJS.Timeout | undefined;
  private url = '';

  constructor(
    private readonly store: ClusterStore,
    private readonly clock: Clock,
    private readonly log: Logger,
  ) {}

  /** Lists this server under `url` (its advertised URL) and keeps the entry fresh. */
  async join(url: string): Promise<void> {
    this.url = url;
    await this.beat();
    this.timer = setInterval(() => {
      this.beat().catch((error: unknown) => this.log.warn(`could not renew this server's entry in the servers table: ${(error as Error).message}`));
    }, HEARTBEAT_MS);
    this.timer.unref();
  }

  async leave(): Promise<void> {
    clearInterval(this.timer);
    if (this.url === '') return;
    await this.store.removeServer(this.url);
  }

  private beat(): Promise<void> {
    return this.store.putServer({ url: this.url, secret: this.secret, heartbeat_time: this.clock.now() });
  }
}
