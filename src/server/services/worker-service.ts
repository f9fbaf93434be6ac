// The server's side of the worker protocol: check-ins, long-polled messages, and the guarded
// updates of runs a worker holds. A report naming a stale assignment changes nothing; the worker
// is told to drop that run instead.
import type { Readable } from 'node:stream';
import {
  ASSIGNED_STATES,
  HELD_STATES,
  KILLED_BY_WORKER_STATES,
  ApiError,
  PROTOCOL_VERSION,
  type AcceptedResponse,
  type BundleState,
  type CheckinResponse,
  type FinishRunRequest,
  type RunReport,
  type StagedRunInfo,
  type StagedRunsQuery,
  type User,
  type WorkerCheckin,
  type WorkerInfo,
  type WorkerMessage,
} from '../../protocol/index.js';
import type { BlobStore, StoredContents } from '../blobs/blob-store.js';
import type { Clock } from '../../common/clock.js';
import type { Logger } from '../../common/log.js';
import { formatSize } from '../../common/sizes.js';
import { resolveResources, type ResourceDefaults } from '../scheduling/resources.js';
import { restagedRun } from '../scheduling/state-bounds.js';
import type { QuotaService } from '../quotas/quota-service.js';
import type { BundleRow, Store } from '../store/store.js';
import { checkinFingerprint, isNewsCheckin, type LastCheckin } from './checkin-news.js';
import { reconcileCheckin } from './checkin-reconcile.js';
import { listStagedRuns } from './staged-runs.js';
import { WorkerHub } from './worker-hub.js';
import type { WorkerRelay } from './worker-relay.js';
import { WorkerMessages } from './worker-messages.js';

const MAX_WAIT_SECONDS = 30;

export interface WorkerServiceOptions extends ResourceDefaults {
  /** This server's advertised URL, recorded as where the worker talks to; null while a lone server. */
  serverUrl(): string | null;
  checkinSeconds: number;
  workerTimeoutSeconds: number;
  maxUploadBytes: number;
}

export class WorkerService {
  /** What each worker's last check-in told the scheduler, to tell news from a routine check-in. */
  private readonly lastCheckins = new Map<string, LastCheckin>();
  private readonly outbox: WorkerMessages;

  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly hub: WorkerHub,
    private readonly clock: Clock,
    private readonly log: Logger,
    private readonly options: WorkerServiceOptions,
    private readonly onChange: () => void,
    private readonly quotas: QuotaService,
    relay: WorkerRelay | null = null,
  ) {
    this.outbox = new WorkerMessages(store, blobs, clock, (row) => this.resources(row), relay);
  }

  async checkin(user: User, workerId: string, body: WorkerCheckin): Promise<CheckinResponse> {
    if (body.protocol_version !== PROTOCOL_VERSION) {
      throw new ApiError(
        'bad_request',
        `Worker protocol version ${body.protocol_version} does not match the server's ${PROTOCOL_VERSION}; upgrade the worker.`,
      );
    }
    const now = this.clock.now();
    const groupUuid = body.group ? await this.groupOf(user, body.group) : null;
    // The worker's row and its runs are apart: written side by side, a check-in waits for one
    // round trip to the database fewer (each can be held up behind a scheduling pass).
    const [, staleKills] = await Promise.all([this.recordWorker(user, workerId, body, groupUuid, now), this.applyReports(user, workerId, body)]);
    if (this.isNews(WorkerHub.key(user.id, workerId), body, groupUuid, now)) this.onChange();
    const messages = [...staleKills, ...(await this.outbox.pending(user.id, workerId))];
    return { checkin_seconds: this.options.checkinSeconds, messages };
  }

  private async recordWorker(user: User, workerId: string, body: WorkerCheckin, groupUuid: string | null, now: number): Promise<void> {
    await this.store.upsertWorker({
      group_uuid: groupUuid,
      owner_id: user.id,
      id: workerId,
      hostname: body.hostname,
      tag: body.tag,
      tag_exclusive: body.tag_exclusive,
      cpus: body.cpus,
      gpus: body.gpus,
      memory_bytes: body.memory_bytes,
      free_disk_bytes: body.free_disk_bytes,
      slots: body.slots,
      runs_left: body.runs_left,
      cached_dependencies: body.cached_dependencies,
      docker_ok: body.docker_ok,
      docker_message: body.docker_message,
      checkin_time: now,
      shared_file_system: body.shared_file_system === true,
      server_url: this.options.serverUrl(),
    });
  }

  /** Applies the check-in's run reports, then settles the runs it no longer names; returns kills for stale reports. */
  private async applyReports(user: User, workerId: string, body: WorkerCheckin): Promise<WorkerMessage[]> {
    const staleKills: WorkerMessage[] = [];
    for (const report of body.runs) {
      if (!(await this.applyReport(user, workerId, report))) {
        this.runLog(workerId, report.uuid, report.assignment_id).info('ignored a stale report; the worker is told to drop the run');
        staleKills.push({ type: 'kill', uuid: report.uuid, assignment_id: report.assignment_id, message: await this.staleKillMessage(report.uuid) });
      }
    }
    await reconcileCheckin(this.store, this.clock, this.log, { owner_id: user.id, id: workerId }, body);
    return staleKills;
  }

  /** Whether the check-in can change a placement (checkin-news.ts); a routine one asks for no pass. */
  private isNews(key: string, body: WorkerCheckin, groupUuid: string | null, now: number): boolean {
    const next = { fingerprint: checkinFingerprint(body, groupUuid), time: now };
    const last = this.lastCheckins.get(key);
    this.lastCheckins.set(key, next);
    return isNewsCheckin(last, next, this.options.workerTimeoutSeconds * 1000);
  }

  /** Long poll: answers at once when something is queued, else waits up to `waitSeconds`. */
  async messages(user: User, workerId: string, waitSeconds: number, signal: AbortSignal): Promise<WorkerMessage[]> {
    const key = WorkerHub.key(user.id, workerId);
    // Requests for its runs are queued where its poll rests: here, from now on (peer-relay.ts).
    await this.store.touchWorker(user.id, workerId, this.clock.now(), this.options.serverUrl());
    let messages = await this.outbox.pending(user.id, workerId);
    if (messages.length > 0 || waitSeconds <= 0) return messages;
    await this.hub.wait(key, Math.min(waitSeconds, MAX_WAIT_SECONDS) * 1000, signal);
    // A worker that hung up cannot receive relayed requests: leave them queued for its next poll.
    if (signal.aborted) return [];
    messages = await this.outbox.pending(user.id, workerId);
    await this.store.touchWorker(user.id, workerId, this.clock.now());
    return messages;
  }

  async start(user: User, workerId: string, uuid: string, assignmentId: string, hostname: string): Promise<AcceptedResponse> {
    const now = this.clock.now();
    const accepted = await this.store.updateBundle(
      uuid,
      { state: 'preparing', last_updated: now, metadata: { started: Math.floor(now / 1000), remote: hostname, run_status: 'Preparing' } },
      { states: ['starting'], assignment_id: assignmentId, worker: { owner_id: user.id, id: workerId } },
    );
    if (!accepted) this.runLog(workerId, uuid, assignmentId).info('refused to start the run: the assignment is stale');
    return accepted ? { accepted } : { accepted, reason: 'The run is no longer assigned to this worker.' };
  }

  async uploadContents(user: User, workerId: string, uuid: string, assignmentId: string, body: Readable): Promise<AcceptedResponse> {
    const row = await this.heldRun(user, workerId, uuid, assignmentId);
    if (!row) {
      this.runLog(workerId, uuid, assignmentId).info('refused an upload of the run: the assignment is stale');
      return { accepted: false, reason: 'The run is no longer assigned to this worker.' };
    }
    const bound = resultsBound(this.resources(row).disk, this.options.maxUploadBytes);
    let stored: StoredContents;
    try {
      stored = await this.blobs.store(uuid, body, { unpack: true, fileName: 'results.tar', maxBytes: bound.maxBytes });
    } catch (error) {
      // The store commits by rename only once all of it arrived: a refused upload left nothing.
      if (!(error instanceof ApiError && error.code === 'too_large' && bound.disk > 0)) throw error;
      throw new ApiError(
        'too_large',
        `The results of run ${uuid} are larger than its disk request (--request-disk ${formatSize(bound.disk)}; up to ${formatSize(bound.maxBytes)} is accepted); nothing was stored.`,
        { cause: error },
      );
    }
    await this.store.updateBundle(
      uuid,
      { is_dir: stored.is_dir, last_updated: this.clock.now(), metadata: { data_size: stored.data_size } },
      { assignment_id: assignmentId },
    );
    return { accepted: true };
  }

  /**
   * The results of a run on a worker that shares this file system: it moved the run's files to
   * the run's results_location, and they become its contents with no upload. Like an upload, it
   * must come from the run's current assignment.
   */
  async commitResultsInPlace(user: User, workerId: string, uuid: string, assignmentId: string): Promise<AcceptedResponse> {
    const row = await this.heldRun(user, workerId, uuid, assignmentId);
    if (!row) {
      this.runLog(workerId, uuid, assignmentId).info('refused the results of the run: the assignment is stale');
      return { accepted: false, reason: 'The run is no longer assigned to this worker.' };
    }
    const bound = resultsBound(this.resources(row).disk, this.options.maxUploadBytes);
    const stored = await this.blobs.commitIncoming(uuid, bound.maxBytes);
    if (stored === null) {
      throw new ApiError('not_found', `No results of run ${uuid} are at ${this.blobs.incomingPath(uuid)}; upload them instead.`);
    }
    await this.store.updateBundle(
      uuid,
      { is_dir: stored.is_dir, last_updated: this.clock.now(), metadata: { data_size: stored.data_size } },
      { assignment_id: assignmentId },
    );
    return { accepted: true };
  }

  async finish(user: User, workerId: string, uuid: string, body: FinishRunRequest): Promise<AcceptedResponse> {
    const row = await this.heldRun(user, workerId, uuid, body.assignment_id);
    if (!row) {
      this.runLog(workerId, uuid, body.assignment_id).info('refused the end of the run: the assignment is stale');
      return { accepted: false, reason: 'The run is no longer assigned to this worker.' };
    }
    if (body.restage) return this.restage(user, workerId, row, body.assignment_id);
    const killed = body.killed || row.kill_requested;
    const failed = body.failure_message !== null || (body.exitcode !== null && body.exitcode !== 0);
    const state: BundleState = killed ? 'killed' : failed ? 'failed' : 'ready';
    const failure = body.failure_message ?? (failed ? `Exit code ${body.exitcode}` : null);
    const accepted = await this.store.updateBundle(
      uuid,
      {
        state,
        last_updated: this.clock.now(),
        kill_requested: false,
        metadata: { ...body.progress, exitcode: body.exitcode, failure_message: failure, run_status: 'Finished' },
      },
      { states: HELD_STATES, assignment_id: body.assignment_id, worker: { owner_id: user.id, id: workerId } },
    );
    // The run is over: only the charge matters now, not a kill.
    if (accepted) await this.quotas.chargeRunTime(row, body.progress.time, user.is_root);
    this.onChange();
    return { accepted };
  }

  /** The worker hands the run back unfinished: it goes back to `staged`, keeping nothing uploaded. */
  private async restage(user: User, workerId: string, row: BundleRow, assignmentId: string): Promise<AcceptedResponse> {
    const change = restagedRun(`Handed back by worker ${workerId} when it stopped; staged again.`, row.kill_requested, this.clock.now());
    const accepted = await this.store.updateBundle(row.uuid, change, {
      states: HELD_STATES,
      assignment_id: assignmentId,
      worker: { owner_id: user.id, id: workerId },
    });
    if (accepted) {
      this.runLog(workerId, row.uuid, assignmentId).info('the worker handed the run back; staged again');
      await this.blobs.remove(row.uuid);
      // A worker hands runs back only as it shuts down: count it as gone now, not after
      // --worker-timeout-seconds, or the scheduler would send the run straight back to it.
      await this.store.touchWorker(user.id, workerId, this.clock.now() - this.options.workerTimeoutSeconds * 1000 - 1);
    }
    this.onChange();
    return { accepted };
  }

  /**
   * The group a worker started with `--group` serves: one its owner belongs to (root's workers
   * serve everyone already). Refused otherwise, so a worker never serves a group by mistake.
   */
  private async groupOf(user: User, name: string): Promise<string | null> {
    if (user.is_root) return null;
    const group = await this.store.getGroupByName(name);
    const members = group ? await this.store.listGroupMembers(group.uuid) : [];
    if (!group || !members.some((m) => m.user_id === user.id)) {
      throw new ApiError('forbidden', `This worker's --group '${name}' is not a group its owner '${user.user_name}' belongs to; see 'cl gls'.`);
    }
    return group.uuid;
  }

  /** The message of a kill sent for a stale report: a kill the user asked for says so. */
  private async staleKillMessage(uuid: string): Promise<string> {
    const [row] = await this.store.getBundles([uuid]);
    return row?.state === 'killed' ? 'Kill requested' : 'This run is no longer assigned to this worker.';
  }

  /**
   * The workers `user` may use, as the scheduler sees it: root's (shared with everyone) and the
   * user's own; root sees all. Another user's worker is none of theirs, whatever it claims to have.
   */
  /** Staged runs for worker managers: see staged-runs.ts. */
  stagedRuns(user: User, query: StagedRunsQuery): Promise<StagedRunInfo[]> {
    return listStagedRuns(this.store, this.options, user, query);
  }

  async list(user: User): Promise<WorkerInfo[]> {
    const all = await this.store.listWorkers();
    const ownerRows = await this.store.getUsersByIds([...new Set(all.map((w) => w.owner_id))]);
    const rootIds = new Set(ownerRows.filter((u) => u.is_root).map((u) => u.id));
    const myGroups = new Set(await this.store.listGroupUuidsOf(user.id));
    const workers = all.filter(
      (w) => user.is_root || w.owner_id === user.id || rootIds.has(w.owner_id) || (w.group_uuid != null && myGroups.has(w.group_uuid)),
    );
    const owners = new Map(ownerRows.map((u) => [u.id, u.user_name]));
    const now = this.clock.now();
    return Promise.all(
      workers.map(async (w) => {
        const runs = await this.store.listBundlesOfWorker(w.owner_id, w.id, ASSIGNED_STATES);
        const resources = runs.map((r) => this.resources(r));
        return {
          id: w.id,
          owner_name: owners.get(w.owner_id) ?? w.owner_id,
          hostname: w.hostname,
          tag: w.tag,
          tag_exclusive: w.tag_exclusive,
          cpus: w.cpus,
          cpus_in_use: resources.reduce((sum, r) => sum + r.cpus, 0),
          gpus: w.gpus,
          gpus_in_use: resources.reduce((sum, r) => sum + r.gpus, 0),
          memory_bytes: w.memory_bytes,
          free_disk_bytes: w.free_disk_bytes,
          slots: w.slots,
          runs: runs.map((r) => r.uuid),
          checkin_time: Math.floor(w.checkin_time / 1000),
          online: now - w.checkin_time <= this.options.workerTimeoutSeconds * 1000,
          docker_ok: w.docker_ok,
          docker_message: w.docker_message,
          warning: (w.gpus_seen ?? 0) > 0 && w.gpus === 0
            ? `reported ${w.gpus_seen} GPU${w.gpus_seen === 1 ? '' : 's'} before, none now: no GPU runs are sent to it`
            : null,
        };
      }),
    );
  }

  /** Lines about a worker's run carry the worker, the run and the assignment it named. */
  private runLog(workerId: string, uuid: string, assignmentId: string): Logger {
    return this.log.child({ worker: workerId, run: uuid, assignment: assignmentId });
  }

  private resources(row: BundleRow): ReturnType<typeof resolveResources> {
    return resolveResources(row.metadata, this.options);
  }

  /** Applies one run report; false when the report is stale (another assignment, or the run ended). */
  private async applyReport(user: User, workerId: string, report: RunReport): Promise<boolean> {
    // A run deleted meanwhile (a worker_offline run may be) is stale like any other.
    const [row] = await this.store.getBundles([report.uuid]);
    if (!row || !(await this.claimRun(row, user, workerId, report.assignment_id))) return false;
    const applied = await this.store.updateBundle(
      report.uuid,
      { state: report.state, last_updated: this.clock.now(), metadata: { ...report.progress } },
      { states: HELD_STATES, assignment_id: report.assignment_id, worker: { owner_id: user.id, id: workerId } },
    );
    if (applied) await this.chargeRunTime(row, report, user.is_root);
    return applied;
  }

  /**
   * Charges the run's owner for the time it ran since its last report on a shared (root-owned)
   * worker; at the owner's time quota, the run is killed with that reason.
   */
  private async chargeRunTime(row: BundleRow, report: { assignment_id: string; progress: { time?: number } }, onSharedWorker: boolean): Promise<void> {
    const killReason = await this.quotas.chargeRunTime(row, report.progress.time, onSharedWorker);
    if (killReason === null || row.kill_requested || !KILLED_BY_WORKER_STATES.includes(row.state)) return;
    const killed = await this.store.updateBundle(
      row.uuid,
      { kill_requested: true, last_updated: this.clock.now(), metadata: { kill_reason: killReason } },
      { states: KILLED_BY_WORKER_STATES, assignment_id: report.assignment_id },
    );
    if (killed) this.runLog(row.worker_id ?? '', row.uuid, report.assignment_id).info(`killing the run: ${killReason}`);
  }

  /** The run when this worker holds (or adopts) it under this assignment, else null; see claimRun. */
  private async heldRun(user: User, workerId: string, uuid: string, assignmentId: string): Promise<BundleRow | null> {
    const [row] = await this.store.getBundles([uuid]);
    if (!row) throw new ApiError('not_found', `No bundle with uuid ${uuid}.`);
    return this.claimRun(row, user, workerId, assignmentId);
  }

  /**
   * `row` when this worker holds it under this assignment, else null. A worker of the same owner
   * naming the run's current assignment under another worker id (a worker restarted with a new
   * --id on the same work dir) adopts the run: the assignment id is a secret only the owner's
   * worker was sent, so it proves the claim; another owner's worker is never accepted.
   */
  private async claimRun(row: BundleRow, user: User, workerId: string, assignmentId: string): Promise<BundleRow | null> {
    const uuid = row.uuid;
    const held = row.assignment_id === assignmentId && row.worker_owner_id === user.id && HELD_STATES.includes(row.state);
    if (!held || row.worker_id === null) return null;
    if (row.worker_id === workerId) return row;
    const adopted = await this.store.updateBundle(
      uuid,
      { worker_id: workerId, last_updated: this.clock.now() },
      { states: HELD_STATES, assignment_id: assignmentId, worker: { owner_id: user.id, id: row.worker_id } },
    );
    if (!adopted) return null;
    this.runLog(workerId, uuid, assignmentId).info(`adopted the run from worker ${row.worker_id} (same owner, same assignment)`);
    return { ...row, worker_id: workerId };
  }
}

/**
 * The most bytes a run's results upload may stream: its disk request and a margin for the tar
 * framing (headers, padding) and files written while it was being packed; the server's upload
 * limit when the run asked for no disk limit (0).
 */
export function resultsBound(disk: number, maxUploadBytes: number): { disk: number; maxBytes: number } {
  if (disk <= 0) return { disk, maxBytes: maxUploadBytes };
  return { disk, maxBytes: Math.min(maxUploadBytes, disk + Math.max(Math.ceil(disk / 16), 16 * 1024 ** 2)) };
}
