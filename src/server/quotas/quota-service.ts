// Per-user quotas at the server's edges: refusing new bundles over disk or time quota, charging
// run-seconds on shared workers from worker reports, and the account views of `cl uinfo` and
// `cl uedit`. The decisions are quota-rules.ts; this reads and writes the store around them.
import { ASSIGNED_STATES, ApiError, type BundleType, type EditUserRequest, type User, type UserInfo } from '../../protocol/index.js';
import type { BundleRow, Store, UserAccountChange, UserRow } from '../store/store.js';
import { creationProblem, effectiveQuotas, runTimeCharge, timeQuotaKillReason, type QuotaDefaults } from './quota-rules.js';
import { toAccount } from '../services/user-service.js';

export class QuotaService {
  constructor(
    private readonly store: Store,
    private readonly defaults: QuotaDefaults,
  ) {}

  /** Refuses a new bundle of `user` when they are at their disk quota (or, for a run, their time quota). */
  async checkCreate(user: User, type: BundleType): Promise<void> {
    const row = await this.userRow(user.id);
    const quotas = effectiveQuotas(row, this.defaults);
    if (quotas === null) return;
    const { disk_used } = await this.store.getUserDiskUsage(user.id);
    const problem = creationProblem(type, { disk_used, time_used: row.time_used }, quotas);
    if (problem !== null) throw new ApiError('forbidden', problem);
  }

  /**
   * Charges the owner of `run` for the time its shared worker reported since the last report,
   * and returns why the run must be killed when that puts the owner at their time quota.
   * Runs on the owner's own workers cost nothing.
   */
  async chargeRunTime(run: BundleRow, reportedTime: number | undefined, onSharedWorker: boolean): Promise<string | null> {
    if (!onSharedWorker) return null;
    const seconds = runTimeCharge(run.metadata.time, reportedTime);
    if (seconds > 0) await this.store.addUserTimeUsed(run.owner_id, seconds);
    const owner = await this.userRow(run.owner_id);
    const quotas = effectiveQuotas(owner, this.defaults);
    if (quotas === null || owner.time_used < quotas.time) return null;
    return timeQuotaKillReason(owner.time_used, quotas.time);
  }

  /** The parallel-run quota of each of these owners; root, who has none, is left out. */
  async parallelRunQuotas(ownerIds: readonly string[]): Promise<Map<string, number>> {
    const quotas = new Map<string, number>();
    for (const row of await this.store.getUsersByIds(ownerIds)) {
      const q = effectiveQuotas(row, this.defaults);
      if (q !== null) quotas.set(row.id, q.parallel_runs);
    }
    return quotas;
  }

  /** `cl uinfo NAME`: anyone sees their own account; root sees everyone's. */
  async info(caller: User, name: string): Promise<UserInfo> {
    const row = await this.userByName(name);
    if (!caller.is_root && row.id !== caller.id) {
      throw new ApiError('forbidden', `Only root may see another user's account ('${name}'); use cl uinfo for your own.`);
    }
    return this.toInfo(row);
  }

  /** `cl uedit NAME`: root only; a change to root itself is refused (root has no quotas and keeps access). */
  async edit(caller: User, name: string, request: EditUserRequest): Promise<UserInfo> {
    if (!caller.is_root) throw new ApiError('forbidden', 'Only root may change quotas or access (cl uedit); nothing was changed.');
    const row = await this.userByName(name);
    if (row.is_root) throw new ApiError('bad_request', `'${name}' is root: root has no quotas and cannot lose access.`);
    const change: UserAccountChange = {
      quotas: {
        ...(request.disk_quota !== undefined ? { disk: request.disk_quota } : {}),
        ...(request.time_quota !== undefined ? { time: request.time_quota } : {}),
        ...(request.parallel_run_quota !== undefined ? { parallel_runs: request.parallel_run_quota } : {}),
      },
      ...(request.has_access !== undefined ? { is_active: request.has_access } : {}),
    };
    await this.store.updateUserAccount(row.id, change);
    return this.toInfo(await this.userRow(row.id));
  }

  private async toInfo(row: UserRow): Promise<UserInfo> {
    const quotas = effectiveQuotas(row, this.defaults);
    const usage = await this.store.getUserDiskUsage(row.id);
    return {
      ...toAccount(row),
      has_access: row.is_active,
      bundles: usage.bundles,
      disk_used: usage.disk_used,
      disk_quota: quotas?.disk ?? null,
      time_used: row.time_used,
      time_quota: quotas?.time ?? null,
      parallel_runs: await this.sharedRunsOf(row.id),
      parallel_run_quota: quotas?.parallel_runs ?? null,
    };
  }

  /** Runs of the user now held by shared (root-owned) workers. */
  private async sharedRunsOf(userId: string): Promise<number> {
    const held = (await this.store.listBundlesInStates(ASSIGNED_STATES)).filter((r) => r.owner_id === userId && r.worker_owner_id !== null);
    const workerOwners = await this.store.getUsersByIds([...new Set(held.map((r) => r.worker_owner_id as string))]);
    const roots = new Set(workerOwners.filter((u) => u.is_root).map((u) => u.id));
    return held.filter((r) => roots.has(r.worker_owner_id as string)).length;
  }

  private async userRow(id: string): Promise<UserRow> {
    const [row] = await this.store.getUsersByIds([id]);
    if (!row) throw new ApiError('not_found', `No user with id ${id}.`);
    return row;
  }

  private async userByName(name: string): Promise<UserRow> {
    const row = await this.store.getUserByName(name);
    if (!row) throw new ApiError('not_found', `No user named '${name}'.`);
    return row;
  }
}
