// The scheduling loop: stages runs whose parents allow it and fails those whose parents failed (staging.ts),
// bounds runs held by workers (silent workers, leases, stuck states: state-bounds.ts), and places staged runs on workers through the pure matcher. Runs on a
// timer and, to keep dispatch latency low, right after anything that can change a decision.
import type { BundleState, RunResources, User } from '../../protocol/index.js';
import type { Clock } from '../../common/clock.js';
import type { IdSource } from '../ids.js';
import type { Logger } from '../../common/log.js';
import { WorkerHub } from '../services/worker-hub.js';
import type { BundleRow, Store, WorkerKey, WorkerRow } from '../store/store.js';
import type { QuotaService } from '../quotas/quota-service.js';
import { matchRuns, type SharedRunQuotas, type StagedRun, type WorkerSnapshot } from './matcher.js';
import { orderStagedRuns } from './run-order.js';
import { requestedQueue, resolveResources, type ResourceDefaults } from './resources.js';
import { AccessControl } from '../permissions/access-control.js';
import { allowsFailedDependencies, decideStaging } from './staging.js';
import { BOUNDED_RUN_STATES, FIRST_STAGED_STATUS, decideRunBounds, restagedRun, withRestageNote, type StateBoundsOptions } from './state-bounds.js';
import { addToList } from '../../common/lists-by-key.js';
import type { PassGate } from '../cluster/scheduler-lease.js';

const ACTIVE: readonly BundleState[] = ['starting', 'preparing', 'running', 'finalizing'];

/**
 * A timer tick places runs again after this long even when nothing was reported changed: what
 * time alone changes (a worker falling silent) reaches the waiting reasons within it.
 */
const RESCHEDULE_MS = 5_000;

/**
 * Lets waiting requests (check-ins above all) run between the steps of a pass. The store answers
 * synchronously under its promises, so without this a pass over thousands of staged runs would
 * hold the event loop, and every check-in behind it, from start to end.
 */
function yieldToRequests(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export interface BundleManagerOptions extends ResourceDefaults, StateBoundsOptions {
  intervalMs: number;
}

export class BundleManager {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;
  /** The loop of passes under way, if any. */
  private current: Promise<void> = Promise.resolve();
  private again = false;
  private readonly passSteps: (() => Promise<boolean>)[] = [];
  /** Something that can change a placement happened since the last placing (a trigger, a staged or restaged run). */
  private changed = true;
  private lastPlacedAt = -Infinity;
  /** Whether this server may schedule now (the scheduler lease, when servers share a database). */
  private gate: PassGate | null = null;

  constructor(
    private readonly store: Store,
    private readonly hub: WorkerHub,
    private readonly clock: Clock,
    private readonly ids: IdSource,
    private readonly log: Logger,
    private readonly options: BundleManagerOptions,
    private readonly quotas: QuotaService,
    private readonly access: AccessControl = new AccessControl(store),
  ) {}

  start(): void {
    // A tick stages runs and bounds held ones; it places runs only after a change or RESCHEDULE_MS.
    this.timer = setInterval(() => this.run(), this.options.intervalMs);
    this.trigger();
  }

  /** Stops the timer and waits for a pass under way, so the store can be closed after it. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.stopped = true;
    await this.current;
  }

  /** Something changed: runs a pass soon; passes never overlap, and a trigger during a pass causes one more. */
  trigger(): void {
    this.changed = true;
    this.run();
  }

  private run(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    this.current = new Promise((resolve) => {
      setImmediate(() => {
        void this.loop().then(resolve);
      });
    });
  }

  private async loop(): Promise<void> {
    do {
      this.again = false;
      try {
        await this.pass();
      } catch (error) {
        // A failed pass is retried on the next tick; the error is logged so it is not invisible.
        this.log.error(`scheduling pass failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      }
    } while (this.again && !this.stopped);
    this.running = false;
  }

  /** From now on a pass runs only while `gate` allows: one server of a database schedules at a time. */
  setGate(gate: PassGate): void {
    this.gate = gate;
  }

  /** Adds work done in every pass after staging (e.g. assembling make bundles); `true` asks for another pass. */
  addPassStep(step: () => Promise<boolean>): void {
    this.passSteps.push(step);
  }

  async pass(): Promise<void> {
    if (this.gate !== null && !(await this.gate.mayRun())) return;
    const started = this.clock.now();
    await this.stageCreatedRuns();
    for (const step of this.passSteps) {
      if (await step()) {
        this.again = true;
        this.changed = true;
      }
    }
    await yieldToRequests();
    await this.boundHeldRuns();
    const now = this.clock.now();
    if (!this.changed && now - this.lastPlacedAt < RESCHEDULE_MS) return;
    this.changed = false;
    this.lastPlacedAt = now;
    try {
      await yieldToRequests();
      // Every worker only when placing: a tick (every intervalMs) reads no more than it bounds.
      const placing = await this.schedule(await this.store.listWorkers());
      // What bench/checkin.mjs reads (--verbose): the whole pass, requests served between its steps included.
      if (placing) this.log.debug('scheduling pass', { ...placing, ms: this.clock.now() - started });
    } catch (error) {
      this.changed = true;
      throw error;
    }
  }

  /** For each owner of a created bundle, the parents (of any of their bundles) they may read: one lookup per owner. */
  private async parentsReadableByOwner(
    created: readonly BundleRow[],
    deps: readonly { child_uuid: string; parent_uuid: string }[],
    parents: ReadonlyMap<string, BundleRow>,
  ): Promise<Map<string, Set<string>>> {
    const ownerOf = new Map(created.map((r) => [r.uuid, r.owner_id]));
    const parentsOf = new Map<string, BundleRow[]>();
    for (const dep of deps) {
      const owner = ownerOf.get(dep.child_uuid);
      const parent = parents.get(dep.parent_uuid);
      if (owner === undefined || parent === undefined) continue;
      addToList(parentsOf, owner, parent);
    }
    const users = new Map((await this.store.getUsersByIds([...parentsOf.keys()])).map((u) => [u.id, u]));
    const out = new Map<string, Set<string>>();
    for (const [owner, rows] of parentsOf) {
      out.set(owner, await this.access.readable('bundle', { id: owner, is_root: users.get(owner)?.is_root ?? false }, rows));
    }
    return out;
  }

  private async stageCreatedRuns(): Promise<void> {
    const created = await this.store.listBundlesInStates(['created']);
    if (created.length === 0) return;
    const deps = await this.store.getDependencies(created.map((r) => r.uuid));
    const parents = new Map((await this.store.getBundles([...new Set(deps.map((d) => d.parent_uuid))])).map((p) => [p.uuid, p]));
    const readable = await this.parentsReadableByOwner(created, deps, parents);
    const depsByChild = new Map<string, typeof deps>();
    for (const dep of deps) {
      addToList(depsByChild, dep.child_uuid, dep);
    }
    for (const run of created) {
      const own = depsByChild.get(run.uuid) ?? [];
      const decision = decideStaging(own, parents, allowsFailedDependencies(run.metadata), readable.get(run.owner_id) ?? new Set());
      const now = this.clock.now();
      if (decision.kind === 'fail') {
        await this.store.updateBundle(
          run.uuid,
          { state: 'failed', last_updated: now, metadata: { failure_message: decision.message } },
          { states: ['created'] },
        );
      } else if (decision.kind === 'stage') {
        await this.store.updateBundle(
          run.uuid,
          { state: 'staged', last_updated: now, metadata: { staged_status: FIRST_STAGED_STATUS } },
          { states: ['created'] },
        );
        this.changed = true;
      }
    }
  }

  private isOnline(worker: WorkerRow | undefined): boolean {
    return worker !== undefined && this.clock.now() - worker.checkin_time <= this.options.workerTimeoutSeconds * 1000;
  }

  /** Applies the bounds on runs held by workers (state-bounds.ts): silent workers, leases, stuck states. */
  private async boundHeldRuns(): Promise<void> {
    const held = await this.store.listBundlesInStates(BOUNDED_RUN_STATES);
    if (held.length === 0) return;
    // Only the check-in times of the workers holding runs: with a thousand workers, reading them
    // all at every tick held check-ins up for tens of milliseconds twice a second.
    const holders = new Map<string, WorkerKey>();
    for (const run of held) {
      if (run.worker_owner_id !== null && run.worker_id !== null) {
        holders.set(WorkerHub.key(run.worker_owner_id, run.worker_id), { owner_id: run.worker_owner_id, id: run.worker_id });
      }
    }
    const checkins = new Map<string, number>();
    for (const w of await this.store.getWorkerCheckinTimes([...holders.values()])) checkins.set(WorkerHub.key(w.owner_id, w.id), w.checkin_time);
    const now = this.clock.now();
    for (const run of held) {
      const checkinTime = checkins.get(WorkerHub.key(run.worker_owner_id ?? '', run.worker_id ?? '')) ?? null;
      const decision = decideRunBounds(run, checkinTime, now, this.options);
      if (decision.kind === 'keep') continue;
      this.changed = true;
      const guard = { states: [run.state], assignment_id: run.assignment_id ?? '' };
      const log = this.log.child({ run: run.uuid, worker: run.worker_id ?? undefined });
      if (decision.kind === 'restage') {
        log.info(`staging the run again: ${decision.staged_status}`);
        await this.store.updateBundle(run.uuid, restagedRun(decision.staged_status, run.kill_requested, now), guard);
      } else if (decision.kind === 'offline') {
        if (run.state !== 'worker_offline') log.warn('the worker is silent; the run is now worker_offline');
        await this.store.updateBundle(run.uuid, { state: 'worker_offline', last_updated: now, metadata: { run_status: decision.run_status } }, guard);
      } else {
        // Its worker, if it reports the run again, is told to drop it: the report is stale now.
        log.warn(`failing the run: ${decision.failure_message}`);
        await this.store.updateBundle(
          run.uuid,
          { state: 'failed', kill_requested: false, last_updated: now, metadata: { failure_message: decision.failure_message, run_status: null } },
          guard,
        );
      }
    }
  }

  /** Places staged runs; returns what the pass looked at (null when no run was staged). */
  private async schedule(workers: WorkerRow[]): Promise<{ staged_runs: number; online_workers: number; match_ms: number } | null> {
    const staged = await this.store.listBundlesInStates(['staged']);
    const runs = staged.filter((r) => r.bundle_type === 'run');
    if (runs.length === 0) return null;
    await yieldToRequests();
    const held = await this.store.listBundlesInStates(ACTIVE);
    const snapshots = await this.snapshots(workers.filter((w) => this.isOnline(w)), held);
    const active = new Map<string, number>();
    for (const run of held) active.set(run.owner_id, (active.get(run.owner_id) ?? 0) + 1);
    await yieldToRequests();
    const unordered = await this.toStagedRuns(runs);
    const quotas = await this.sharedRunQuotas(runs, held, snapshots);
    await yieldToRequests();
    const matchStarted = this.clock.now();
    const { assignments, waiting } = matchRuns(orderStagedRuns(unordered, active), snapshots, quotas);
    const matchMs = this.clock.now() - matchStarted;
    await yieldToRequests();
    const workerByKey = new Map(workers.map((w) => [WorkerHub.key(w.owner_id, w.id), w]));
    for (const { uuid, worker_key } of assignments) {
      const worker = workerByKey.get(worker_key);
      if (!worker) continue;
      const assigned = await this.store.updateBundle(
        uuid,
        {
          state: 'starting',
          worker_owner_id: worker.owner_id,
          worker_id: worker.id,
          assignment_id: this.ids.uuid(),
          last_updated: this.clock.now(),
          metadata: { staged_status: null, run_status: `Sent to worker ${worker.id}` },
        },
        { states: ['staged'] },
      );
      if (assigned) this.hub.notify(worker_key);
    }
    const statuses = new Map<string, string>();
    for (const run of runs) {
      const reason = waiting.get(run.uuid);
      const status = reason ? withRestageNote(run.metadata.staged_status, reason) : undefined;
      if (status && run.metadata.staged_status !== status) statuses.set(run.uuid, status);
    }
    await this.store.setStagedStatuses(statuses, this.clock.now());
    return { staged_runs: runs.length, online_workers: snapshots.length, match_ms: matchMs };
  }

  /** For each owner of a staged run who has a parallel-run quota: their runs held by shared workers now. */
  private async sharedRunQuotas(staged: BundleRow[], held: BundleRow[], workers: WorkerSnapshot[]): Promise<SharedRunQuotas> {
    const limits = await this.quotas.parallelRunQuotas([...new Set(staged.map((r) => r.owner_id))]);
    const sharedKeys = new Set(workers.filter((w) => w.owner_is_root).map((w) => w.key));
    const counts = new Map<string, { running: number; quota: number }>();
    for (const [owner, quota] of limits) counts.set(owner, { running: 0, quota });
    for (const run of held) {
      const entry = counts.get(run.owner_id);
      if (entry && sharedKeys.has(WorkerHub.key(run.worker_owner_id ?? '', run.worker_id ?? ''))) entry.running += 1;
    }
    return counts;
  }

  private async toStagedRuns(runs: BundleRow[]): Promise<StagedRun[]> {
    const deps = await this.store.getDependencies(runs.map((r) => r.uuid));
    const depsByChild = new Map<string, string[]>();
    for (const d of deps) {
      const key = `${d.parent_uuid}:${d.parent_path}`;
      addToList(depsByChild, d.child_uuid, key);
    }
    const sizes = await this.dependencySizes(deps);
    return runs.map((run) => ({
      uuid: run.uuid,
      owner_id: run.owner_id,
      resources: resolveResources(run.metadata, this.options),
      queue: requestedQueue(run.metadata),
      dependency_keys: depsByChild.get(run.uuid) ?? [],
      dependency_sizes: sizes,
      priority: typeof run.metadata.request_priority === 'number' ? run.metadata.request_priority : 0,
    }));
  }

  /**
   * Bytes of each whole-bundle dependency, so the matcher prefers workers caching more of a run's
   * bytes. A sub-path's size is not stored; it is left out (the matcher counts it as the smallest)
   * rather than given the parent's size, which would let one small file of a large bundle outweigh
   * a whole bundle of real size.
   */
  private async dependencySizes(deps: readonly { parent_uuid: string; parent_path: string }[]): Promise<Map<string, number>> {
    const whole = [...new Set(deps.filter((d) => d.parent_path === '').map((d) => d.parent_uuid))];
    const sizes = new Map<string, number>();
    for (const parent of await this.store.getBundles(whole)) {
      const size = parent.metadata.data_size;
      if (typeof size === 'number' && Number.isFinite(size) && size > 0) sizes.set(`${parent.uuid}:`, size);
    }
    return sizes;
  }

  private async snapshots(workers: WorkerRow[], active: BundleRow[]): Promise<WorkerSnapshot[]> {
    const owners = new Map((await this.store.getUsersByIds([...new Set(workers.map((w) => w.owner_id))])).map((u): [string, User] => [u.id, { id: u.id, user_name: u.user_name, is_root: u.is_root }]));
    const heldBy = new Map<string, RunResources[]>();
    for (const run of active) {
      const key = WorkerHub.key(run.worker_owner_id ?? '', run.worker_id ?? '');
      const list = heldBy.get(key) ?? [];
      list.push(resolveResources(run.metadata, this.options));
      heldBy.set(key, list);
    }
    const groupMembers = new Map<string, ReadonlySet<string>>();
    for (const uuid of new Set(workers.map((w) => w.group_uuid).filter((g) => typeof g === 'string'))) {
      groupMembers.set(uuid, new Set((await this.store.listGroupMembers(uuid)).map((m) => m.user_id)));
    }
    return workers.map((w) => {
      const key = WorkerHub.key(w.owner_id, w.id);
      const held = heldBy.get(key) ?? [];
      const members = w.group_uuid ? groupMembers.get(w.group_uuid) : undefined;
      return {
        ...(members ? { group_member_ids: members } : {}),
        key,
        name: w.id,
        owner_id: w.owner_id,
        owner_is_root: owners.get(w.owner_id)?.is_root ?? false,
        tag: w.tag,
        tag_exclusive: w.tag_exclusive,
        total_cpus: w.cpus,
        total_gpus: w.gpus,
        total_memory: w.memory_bytes,
        free_cpus: w.cpus - held.reduce((s, r) => s + r.cpus, 0),
        free_gpus: w.gpus - held.reduce((s, r) => s + r.gpus, 0),
        free_memory: w.memory_bytes - held.reduce((s, r) => s + r.memory, 0),
        free_disk: w.free_disk_bytes,
        free_slots: w.slots - held.length,
        runs_left: w.runs_left,
        docker_ok: w.docker_ok,
        gpus_lost: (w.gpus_seen ?? 0) > 0 && w.gpus === 0,
        cached_dependencies: new Set(w.cached_dependencies),
      };
    });
  }
}
