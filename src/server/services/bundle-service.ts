// Creating bundles, reading them, and kill requests. Validation of what users send lives here;
// state changes go through guarded store updates.
import { defaultRunName, validateBundleName } from '../../common/names.js';
import { UserInputError } from '../../common/user-input-error.js';
import {
  KILLED_AT_ONCE_STATES,
  KILLED_BY_WORKER_STATES,
  ApiError,
  CHILD_PATH_PATTERN,
  FROZEN_KEY,
  RunRequests,
  isFinalState,
  type Bundle,
  type BundleActionResponse,
  type CreateBundleRequest,
  type Dependency,
  type Metadata,
  type Permission,
  type User,
} from '../../protocol/index.js';
import type { Clock } from '../../common/clock.js';
import type { IdSource } from '../ids.js';
import { requestLimitViolation, resolveResources, type ResourceDefaults } from '../scheduling/resources.js';
import type { QuotaService } from '../quotas/quota-service.js';
import type { BundleRow, NewBundleRow, Store } from '../store/store.js';
import { toApiBundles } from './bundle-view.js';
import { checkMakeTargets, defaultMakeName } from './make-targets.js';
import type { AccessControl, Caller } from '../permissions/access-control.js';
import type { WorkerHub } from './worker-hub.js';
import { WorkerHub as Hub } from './worker-hub.js';
import { ChangeSignal } from './change-signal.js';

/** How often a waiting request looks at its bundle again (one indexed read each). */
const WAIT_POLL_MS = 25;

export class BundleService {
  private readonly changes = new ChangeSignal();

  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly ids: IdSource,
    private readonly hub: WorkerHub,
    private readonly onChange: () => void,
    private readonly quotas: QuotaService,
    private readonly access: AccessControl,
    /** Server defaults and request bounds; runs outside the bounds fail at creation. */
    private readonly resourceOptions: ResourceDefaults = { defaultCpuImage: 'codalab/default-cpu:latest', defaultGpuImage: 'codalab/default-gpu:latest' },
  ) {}

  async create(user: User, worksheetUuid: string, request: CreateBundleRequest): Promise<Bundle> {
    const worksheet = await this.store.getWorksheetByUuid(worksheetUuid);
    if (!worksheet) throw new ApiError('not_found', `No worksheet with uuid ${worksheetUuid}.`);
    // Checked before anything else, so a refused request creates nothing.
    await this.access.requireWorksheet(user, worksheet, 'all', 'add bundles to', `'${worksheet.name}'`);
    await this.quotas.checkCreate(user, request.bundle_type);
    const metadata = { ...request.metadata };
    if (metadata[FROZEN_KEY] !== undefined) {
      // Only a final bundle may be frozen; a new one is never final.
      throw new ApiError('bad_request', `A new bundle cannot be frozen: freeze it once it is ready with 'cl edit SPEC --freeze'.`);
    }
    let command: string | null = null;
    if (request.bundle_type === 'run') {
      command = (request.command ?? '').trim() === '' ? null : (request.command as string);
      if (command === null) throw new ApiError('bad_request', 'A run needs a command.');
      metadata.name ??= defaultRunName(command);
      const requests = RunRequests.safeParse(pick(metadata, Object.keys(RunRequests.shape)));
      if (!requests.success) {
        throw new ApiError('bad_request', `Invalid run request: ${requests.error.issues[0]?.path.join('.')}: ${requests.error.issues[0]?.message}`);
      }
      this.checkRequestLimits(metadata);
      checkDependencyKeys(request.dependencies);
      await this.checkParents(user, request.dependencies);
    } else if (request.bundle_type === 'make') {
      checkMakeTargets(request.dependencies);
      checkDependencyKeys(request.dependencies.filter((d) => d.child_path !== ''));
      // Every parent, the whole-bundle target (key '') included: a make copies what it names.
      await this.checkParents(user, request.dependencies);
      metadata.name ??= defaultMakeName(request.dependencies);
    } else if (request.dependencies.length > 0) {
      throw new ApiError('bad_request', 'Uploaded bundles have no dependencies.');
    }
    const name = typeof metadata.name === 'string' ? metadata.name : '';
    try {
      validateBundleName(name);
    } catch (error) {
      if (error instanceof UserInputError) throw new ApiError('bad_request', error.message);
      throw error;
    }
    const now = this.clock.now();
    metadata.created = Math.floor(now / 1000);
    const row: NewBundleRow = {
      uuid: this.ids.uuid(),
      bundle_type: request.bundle_type,
      command,
      state: request.bundle_type === 'dataset' ? 'uploading' : 'created',
      owner_id: user.id,
      is_dir: null,
      created: now,
      last_updated: now,
      metadata,
      name,
      worker_owner_id: null,
      worker_id: null,
      assignment_id: null,
      kill_requested: false,
    };
    await this.store.insertBundle(row, request.dependencies, worksheetUuid);
    if (row.bundle_type !== 'dataset') this.onChange();
    return this.get(user, row.uuid);
  }

  /** The bundle as the caller may see it: refused unless they may read it. */
  async get(user: User, uuid: string): Promise<Bundle> {
    const row = await this.getRow(uuid);
    await this.access.requireBundle(user, row, 'read', 'read');
    const [bundle] = await toApiBundles(this.store, [row], user, this.access);
    if (!bundle) throw new ApiError('not_found', `No bundle with uuid ${uuid}.`);
    return bundle;
  }

  /**
   * The bundle once it is final, or as it is when `seconds` have passed or the caller left: `cl
   * wait` and `cl run --wait` learn of the end with one request, instead of polling from afar with
   * backing-off delays: at once when this server recorded it (noteChange), else within
   * WAIT_POLL_MS. Reads the store, so it holds across servers too.
   */
  async waitFinal(user: User, uuid: string, seconds: number, signal: AbortSignal): Promise<Bundle> {
    let row = await this.getRowFor(user, uuid, 'read', 'read');
    const deadline = this.clock.now() + seconds * 1000;
    while (!isFinalState(row.state) && this.clock.now() < deadline && !signal.aborted) {
      await this.changes.wait(WAIT_POLL_MS, signal);
      row = await this.getRow(uuid);
    }
    const [bundle] = await toApiBundles(this.store, [row], user, this.access);
    return bundle as Bundle;
  }

  /** Something in the store changed (a worker reported a run's end, ...): held waits look again now. */
  noteChange(): void {
    this.changes.notify();
  }

  /** The row of a bundle the caller holds `needed` on; `action` completes "You may not ...". */
  async getRowFor(user: Caller, uuid: string, needed: Exclude<Permission, 'none'>, action: string): Promise<BundleRow> {
    const row = await this.getRow(uuid);
    await this.access.requireBundle(user, row, needed, action);
    return row;
  }

  async getRow(uuid: string): Promise<BundleRow> {
    const [row] = await this.store.getBundles([uuid]);
    if (!row) throw new ApiError('not_found', `No bundle with uuid ${uuid}.`);
    return row;
  }

  async kill(user: User, uuid: string): Promise<BundleActionResponse> {
    const row = await this.getRowFor(user, uuid, 'all', 'kill');
    if (isFinalState(row.state)) {
      throw new ApiError('conflict', `Bundle ${uuid} is already ${row.state}; only unfinished bundles can be killed.`);
    }
    const now = this.clock.now();
    const actions = appendAction(row.metadata, 'kill');
    if (KILLED_AT_ONCE_STATES.includes(row.state)) {
      const changed = await this.store.updateBundle(
        uuid,
        { state: 'killed', last_updated: now, metadata: { actions, failure_message: 'Kill requested', run_status: null } },
        { states: [row.state] },
      );
      if (changed) return { uuid, state: 'killed' };
    } else if (KILLED_BY_WORKER_STATES.includes(row.state)) {
      await this.store.updateBundle(
        uuid,
        { kill_requested: true, last_updated: now, metadata: { actions } },
        { states: KILLED_BY_WORKER_STATES },
      );
      if (row.worker_owner_id && row.worker_id) this.hub.notify(Hub.key(row.worker_owner_id, row.worker_id));
      return { uuid, state: row.state };
    }
    // The state moved under us (e.g. the worker just started the run): decide again on the new state.
    return this.kill(user, uuid);
  }

  private checkRequestLimits(metadata: Metadata): void {
    const limits = this.resourceOptions.limits;
    if (!limits) return;
    const violation = requestLimitViolation(resolveResources(metadata, this.resourceOptions), limits);
    if (violation) throw new ApiError('bad_request', violation);
  }

  /** Every parent exists and the creator may read it. */
  private async checkParents(user: User, dependencies: readonly Dependency[]): Promise<void> {
    const parents = await this.store.getBundles(dependencies.map((d) => d.parent_uuid));
    const found = new Set(parents.map((p) => p.uuid));
    const missing = dependencies.find((d) => !found.has(d.parent_uuid));
    if (missing) {
      throw new ApiError('not_found', `${dependencyLabel(missing)} names bundle ${missing.parent_uuid}, which does not exist.`);
    }
    const readable = await this.access.readable('bundle', user, parents);
    const hidden = dependencies.find((d) => !readable.has(d.parent_uuid));
    if (hidden) {
      throw new ApiError('forbidden', `${dependencyLabel(hidden)} names bundle ${hidden.parent_uuid}, which is private: a run may only depend on bundles its owner can read.`);
    }
  }
}

/** Keys are well formed and distinct, and none contains another. */
function checkDependencyKeys(dependencies: readonly Dependency[]): void {
  const keys = new Set<string>();
  for (const dep of dependencies) {
    const key = dep.child_path;
    if (!CHILD_PATH_PATTERN.test(key) || key.split('/').includes('..')) {
      throw new ApiError('bad_request', `Invalid dependency key '${key}': use letters, digits, '_', '-', '.' and '/'.`);
    }
    if (keys.has(key)) throw new ApiError('bad_request', `Duplicate dependency key '${key}'.`);
    for (const other of keys) {
      if (other.startsWith(`${key}/`) || key.startsWith(`${other}/`)) {
        throw new ApiError('bad_request', `Dependency keys '${other}' and '${key}' overlap; one may not contain the other.`);
      }
    }
    keys.add(key);
  }
}

/** How messages name a dependency: by its key, or as a make's whole-bundle target (key ''). */
function dependencyLabel(dep: Dependency): string {
  return dep.child_path === '' ? 'The make target' : `Dependency '${dep.child_path}'`;
}

function appendAction(metadata: Metadata, action: string): string[] {
  const existing = Array.isArray(metadata.actions) ? metadata.actions : [];
  return [...existing, action];
}

function pick(metadata: Metadata, keys: string[]): Record<string, unknown> {
  return Object.fromEntries(keys.filter((k) => metadata[k] !== undefined && metadata[k] !== null).map((k) => [k, metadata[k]]));
}
