// What the server has for a worker: the runs placed on it that it has not started (with their
// dependencies, and paths in the store when it shares the server's file system), kills of the runs
// it holds, and relayed requests. Answered to check-ins and to the worker's long poll alike.
import { ASSIGNED_STATES, type RunSpec, type WorkerMessage } from '../../protocol/index.js';
import type { BlobStore } from '../blobs/blob-store.js';
import type { Clock } from '../../common/clock.js';
import { dependenciesWithContents } from '../scheduling/staging.js';
import type { BundleRow, Store } from '../store/store.js';
import type { WorkerRelay } from './worker-relay.js';

/** A kill is offered again after this long if the run still is not over (its delivery may have been lost). */
const KILL_RESEND_MS = 5_000;

export class WorkerMessages {
  /** When a kill was last handed to the worker, by `uuid:assignment`, so it is not re-sent on every poll. */
  private readonly killsSent = new Map<string, number>();

  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly clock: Clock,
    /** A run's resources as the worker is to apply them (its requests, with the server's defaults). */
    private readonly resources: (row: BundleRow) => RunSpec['resources'],
    private readonly relay: WorkerRelay | null,
  ) {}

  /** Runs to start and kills to deliver that the worker has not acted on yet, then any queued relay requests. */
  async pending(ownerId: string, workerId: string): Promise<WorkerMessage[]> {
    const rows = await this.store.listBundlesOfWorker(ownerId, workerId, ASSIGNED_STATES);
    const allDeps = await this.store.getDependencies(rows.filter((r) => r.state === 'starting').map((r) => r.uuid));
    const parents = new Map((await this.store.getBundles([...new Set(allDeps.map((d) => d.parent_uuid))])).map((p) => [p.uuid, p]));
    // A failed or killed parent (allowed by --allow-failed-dependencies) may have left nothing to mount.
    const deps = dependenciesWithContents(allDeps, parents);
    const sizes = parentSizes(deps.filter((d) => d.parent_path === '').map((d) => d.parent_uuid), parents);
    const sharesStore = rows.some((r) => r.state === 'starting') && (await this.store.getWorker(ownerId, workerId))?.shared_file_system === true;
    const messages: WorkerMessage[] = [];
    for (const row of rows) {
      if (!row.assignment_id) continue;
      if (row.state === 'starting' && row.command) {
        messages.push({
          type: 'run',
          assignment_id: row.assignment_id,
          run: {
            uuid: row.uuid,
            command: row.command,
            owner_id: row.owner_id,
            dependencies: deps
              .filter((d) => d.child_uuid === row.uuid)
              .map((d) => {
                const size = d.parent_path === '' ? sizes.get(d.parent_uuid) : undefined;
                return {
                  child_path: d.child_path,
                  parent_uuid: d.parent_uuid,
                  parent_path: d.parent_path,
                  ...(size !== undefined ? { data_size: size } : {}),
                  ...(sharesStore ? { location: this.blobs.contentsPath(d.parent_uuid) } : {}),
                };
              }),
            resources: this.resources(row),
            exclude_patterns: Array.isArray(row.metadata.exclude_patterns) ? row.metadata.exclude_patterns : [],
            ...(sharesStore ? { results_location: this.blobs.incomingPath(row.uuid) } : {}),
          },
        });
      } else if (row.kill_requested && this.shouldSendKill(`${row.uuid}:${row.assignment_id}`)) {
        messages.push({ type: 'kill', uuid: row.uuid, assignment_id: row.assignment_id, message: killMessage(row) });
      }
    }
    return [...messages, ...(this.relay?.take(ownerId, workerId) ?? [])];
  }

  /** A kill goes out at once, then again only every KILL_RESEND_MS, so a worker's long poll does not spin. */
  private shouldSendKill(key: string): boolean {
    const now = this.clock.now();
    const last = this.killsSent.get(key);
    if (last !== undefined && now - last < KILL_RESEND_MS) return false;
    this.killsSent.set(key, now);
    if (this.killsSent.size > 10_000) this.killsSent.delete(this.killsSent.keys().next().value as string);
    return true;
  }
}

/** What the worker records as the run's failure: the server's reason, when it killed the run itself. */
function killMessage(row: BundleRow): string {
  const reason = row.metadata.kill_reason;
  return typeof reason === 'string' && reason !== '' ? `Kill requested: ${reason}` : 'Kill requested';
}

/** data_size of these bundles where it is known (the worker shows download progress against it). */
function parentSizes(uuids: readonly string[], rows: ReadonlyMap<string, BundleRow>): Map<string, number> {
  const sizes = new Map<string, number>();
  for (const uuid of uuids) {
    const size = rows.get(uuid)?.metadata.data_size;
    if (typeof size === 'number' && Number.isInteger(size) && size >= 0) sizes.set(uuid, size);
  }
  return sizes;
}
