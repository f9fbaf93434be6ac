// Exactly one server of a database runs the scheduling pass: the one holding the `scheduler`
// lease. Its holder renews it as it schedules; when the holder dies, the lease runs out within
// LEASE_TTL_MS and the next server to try takes it. A server stopping cleanly hands it over at once.
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/log.js';
import type { ClusterStore } from '../store/cluster-store.js';

const SCHEDULER_LEASE = 'scheduler';
/** How long a lease lasts unrenewed: the longest a dead holder keeps the others from scheduling. */
export const LEASE_TTL_MS = 10_000;
/** A holder renews no more often than this, so frequent passes do not each cost a write. */
const RENEW_EVERY_MS = 1_000;

/** Whether this server may run a scheduling pass now. */
export interface PassGate {
  mayRun(): Promise<boolean>;
}

export class SchedulerLease implements PassGate {
  private heldSince: number | null = null;
  private renewedAt = -Infinity;

  constructor(
    private readonly store: ClusterStore,
    private readonly clock: Clock,
    private readonly log: Logger,
    /** This server's advertised URL. */
    private readonly holder: string,
    /** Work left cut off by the last holder (assemblies in progress), done on taking the lease. */
    private readonly onTaken: () => Promise<void>,
  ) {}

  async mayRun(): Promise<boolean> {
    const now = this.clock.now();
    if (this.heldSince !== null && now - this.renewedAt < RENEW_EVERY_MS) return true;
    const held = await this.store.takeLease(SCHEDULER_LEASE, this.holder, now, now + LEASE_TTL_MS);
    if (!held) {
      if (this.heldSince !== null) this.log.warn('another server took over the scheduling lease; this one stops scheduling');
      this.heldSince = null;
      return false;
    }
    this.renewedAt = now;
    if (this.heldSince === null) {
      this.heldSince = now;
      this.log.info('took the scheduling lease: this server runs the scheduling passes');
      await this.onTaken();
    }
    return true;
  }

  async release(): Promise<void> {
    if (this.heldSince === null) return;
    this.heldSince = null;
    await this.store.releaseLease(SCHEDULER_LEASE, this.holder);
  }
}
