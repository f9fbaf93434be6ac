// Makes a server one of several on a PostgreSQL database (DESIGN: several servers): it lists
// itself for its peers, hears and tells them of changes (cluster-bus.ts), schedules only while it
// holds the scheduler lease, and keeps the uploads it receives alive for whoever schedules.
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/log.js';
import type { BundleManager } from '../scheduling/bundle-manager.js';
import type { WorkerHub } from '../services/worker-hub.js';
import type { Store } from '../store/store.js';
import { PgBus, type ClusterBus } from './cluster-bus.js';
import type { Membership } from './membership.js';
import { SchedulerLease } from './scheduler-lease.js';

/** How often a receiving server marks its uploads alive: a few times per upload timeout, at most this. */
const UPLOAD_KEEPALIVE_MS = 30_000;

export interface ClusterParts {
  databaseUrl: string;
  /** This server's advertised URL. */
  url: string;
  store: Store;
  clock: Clock;
  log: Logger;
  hub: WorkerHub;
  membership: Membership;
  manager: BundleManager;
  /** The store changed in a way another server caused: wakes waiting requests and the scheduler. */
  onPeerChange(): void;
  /** Work a previous scheduler may have left cut off, redone by whoever takes the lease. */
  onSchedulerLeaseTaken(): Promise<void>;
  keepUploadsAlive(): Promise<void>;
  uploadTimeoutSeconds: number;
}

export interface JoinedCluster {
  bus: ClusterBus;
  /** Hands the lease over and leaves: the others take over at once. */
  leave(): Promise<void>;
}

export async function joinCluster(parts: ClusterParts): Promise<JoinedCluster> {
  const { store, clock, log, hub, membership, manager } = parts;
  await membership.join(parts.url);
  const bus = await PgBus.start(
    parts.databaseUrl,
    parts.url,
    (event) => (event.kind === 'change' ? parts.onPeerChange() : hub.wakeLocal(event.key)),
    () => {
      // Events may have been missed while deaf: look at everything again.
      parts.onPeerChange();
      hub.notifyAll();
    },
    log,
  );
  hub.setBroadcast((key) => bus.publish({ kind: 'worker', key }));
  const lease = new SchedulerLease(store.cluster, clock, log, parts.url, parts.onSchedulerLeaseTaken);
  manager.setGate(lease);
  const keepAlive = setInterval(() => {
    parts.keepUploadsAlive().catch((error: unknown) => log.warn(`could not mark uploads in progress alive: ${(error as Error).message}`));
  }, Math.max(1_000, Math.min(UPLOAD_KEEPALIVE_MS, (parts.uploadTimeoutSeconds * 1000) / 4)));
  keepAlive.unref();
  return {
    bus,
    leave: async () => {
      clearInterval(keepAlive);
      await lease.release().catch(() => {});
      await membership.leave().catch(() => {});
      await bus.close();
    },
  };
}
