// Researcher operations on existing bundles: search, edit metadata, delete (with the checks that
// keep the graph whole), children for mimic, and the memoize lookup. Every check runs before any
// change, so a refused request changes nothing.
import { validateBundleName } from '../../common/names.js';
import { UserInputError } from '../../common/user-input-error.js';
import {
  ACTIVE_STATES,
  ApiError,
  FROZEN_KEY,
  isFinalState,
  METADATA_MAX_KEYS,
  type Bundle,
  type BundleVerboseInfo,
  type DeleteBundlesRequest,
  type MemoRequest,
  type Metadata,
  type SearchRequest,
  type SearchResponse,
  type UpdateBundleRequest,
  type User,
} from '../../protocol/index.js';
import type { BlobStore } from '../blobs/blob-store.js';
import type { Clock } from '../../common/clock.js';
import type { BundleRow, Store } from '../store/store.js';
import { AccessControl, levelName } from '../permissions/access-control.js';
import { toApiBundles } from './bundle-view.js';
import { isFrozen, unfreezeHint } from './frozen.js';
import { parseSearchKeywords } from './search-keywords.js';
import type { GroupService } from '../permissions/group-service.js';
import type { WorksheetService } from './worksheet-service.js';

/** States in which something is working on the bundle: deleting it would pull the floor away. */

/** Fields set by the system or fixed at creation; `cl edit` refuses them. */
const IMMUTABLE_KEYS = new Set([
  'uuid', 'bundle_type', 'command', 'state', 'dependencies', 'owner', 'owner_id', 'owner_name', 'created', 'is_dir',
  'data_size', 'docker_image', 'exitcode', 'started', 'time', 'time_user', 'time_system', 'time_preparing',
  'time_running', 'time_cleaning_up', 'time_uploading_results', 'remote', 'run_status', 'staged_status', 'actions',
  'memory', 'memory_max', 'failure_message', 'last_updated', FROZEN_KEY,
]);

export class BundleOpsService {
  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly worksheets: WorksheetService,
    private readonly clock: Clock,
    private readonly access: AccessControl,
    private readonly groups: GroupService,
  ) {}

  async search(user: User, request: SearchRequest): Promise<SearchResponse> {
    const query = await asBadRequest(() =>
      parseSearchKeywords(request.keywords, {
        userId: user.id,
        readableBy: AccessControl.readableBy(user),
        groupUuid: async (spec) => (await this.groups.resolve(user, spec)).uuid,
        worksheetUuid: async (spec) => (await this.worksheets.resolve(user, spec)).uuid,
      }),
    );
    const limit = query.limit;
    if (limit !== null) query.limit = limit + 1;
    const { rows, result } = await this.store.searchBundles(query);
    const more = limit !== null && rows.length > limit;
    const shown = limit !== null ? rows.slice(0, limit) : rows;
    return { bundles: await toApiBundles(this.store, shown, user, this.access), result, limit, more };
  }

  async update(user: User, uuid: string, request: UpdateBundleRequest): Promise<Bundle> {
    const row = await this.getRow(uuid);
    await this.access.requireBundle(user, row, 'all', 'edit');
    const metadata: Metadata = { ...request.metadata };
    const refused = Object.keys(metadata).filter((key) => IMMUTABLE_KEYS.has(key));
    if (refused.includes(FROZEN_KEY)) {
      throw new ApiError('bad_request', `Cannot edit ${FROZEN_KEY} as a field of bundle ${uuid}: use 'cl edit SPEC --freeze' or '--unfreeze'.`);
    }
    if (refused.length > 0) {
      throw new ApiError('bad_request', `Cannot edit ${refused.join(', ')} of bundle ${uuid}: set by the system or fixed at creation.`);
    }
    Object.assign(metadata, this.freezeChange(row, request.frozen));
    const started = !['created', 'staged', 'uploading'].includes(row.state);
    const requestKey = Object.keys(metadata).find((key) => key.startsWith('request_') || key === 'exclude_patterns');
    if (row.bundle_type === 'run' && started && requestKey) {
      throw new ApiError('conflict', `Cannot edit ${requestKey} of run ${uuid}: it has already started (state ${row.state}).`);
    }
    // Each edit is bounded by the request schema; the sum of edits is bounded here.
    // (The store's JSON merge patch drops keys set to null.)
    const keys = Object.values({ ...row.metadata, ...metadata }).filter((value) => value !== null).length;
    if (keys > METADATA_MAX_KEYS) {
      throw new ApiError('bad_request', `Metadata of bundle ${uuid} would have ${keys} keys; the limit is ${METADATA_MAX_KEYS}.`);
    }
    let name: string | undefined;
    if (metadata.name !== undefined) {
      if (typeof metadata.name !== 'string') throw new ApiError('bad_request', 'A bundle name must be a string.');
      name = await asBadRequest(async () => validateBundleName(metadata.name as string));
    }
    await this.store.updateBundle(uuid, { metadata, last_updated: this.clock.now(), ...(name !== undefined ? { name } : {}) });
    const [bundle] = await toApiBundles(this.store, [await this.getRow(uuid)], user, this.access);
    return bundle as Bundle;
  }

  /** The metadata change that freezes or unfreezes `row`; refuses any other edit of a frozen bundle. */
  private freezeChange(row: BundleRow, frozen: boolean | undefined): Metadata {
    if (frozen === false) return { [FROZEN_KEY]: null };
    if (isFrozen(row)) {
      if (frozen === true) return {}; // freezing again keeps the first time
      throw new ApiError('conflict', `Cannot edit ${row.name} (${row.uuid}): it is frozen; ${unfreezeHint(row)}.`);
    }
    if (frozen === undefined) return {};
    if (!isFinalState(row.state)) {
      throw new ApiError(
        'conflict',
        `Cannot freeze ${row.name} (${row.uuid}): it is ${row.state}; only ready, failed or killed bundles can be frozen (cl wait for it first).`,
      );
    }
    return { [FROZEN_KEY]: Math.floor(this.clock.now() / 1000) };
  }

  /** Deletes the bundles (and, with `recursive`, everything below them); returns the uuids, dependents first. */
  async delete(user: User, request: DeleteBundlesRequest): Promise<string[]> {
    const targets = await this.collect(user, request);
    const rows = await this.store.getBundles(targets);
    const byUuid = new Map(rows.map((r) => [r.uuid, r]));
    for (const uuid of targets) {
      const row = byUuid.get(uuid);
      if (!row) throw new ApiError('not_found', `No bundle with uuid ${uuid}.`);
      await this.access.requireBundle(user, row, 'all', 'delete');
      if (isFrozen(row)) throw new ApiError('conflict', `Cannot delete ${row.name} (${uuid}): it is frozen; ${unfreezeHint(row)}.`);
      if (ACTIVE_STATES.includes(row.state)) {
        throw new ApiError('conflict', `Cannot delete ${row.name} (${uuid}): it is ${row.state}; kill it first (cl kill).`);
      }
    }
    if (!request.force) await this.checkHosts(targets, byUuid);
    if (request.dry_run) return targets;
    if (request.data_only) {
      for (const uuid of targets) {
        await this.blobs.remove(uuid);
        await this.store.updateBundle(uuid, { metadata: { data_size: 0 }, last_updated: this.clock.now() });
      }
      return targets;
    }
    await this.store.deleteBundles(targets);
    for (const uuid of targets) await this.blobs.remove(uuid);
    return targets;
  }

  /** The targets plus, with `recursive`, their descendants; refuses outside dependents unless forced. */
  private async collect(user: User, request: DeleteBundlesRequest): Promise<string[]> {
    const chosen = [...new Set(request.uuids)];
    const set = new Set(chosen);
    if (request.recursive) {
      for (let frontier = chosen; frontier.length > 0; ) {
        const children = (await this.store.getDependents(frontier)).map((d) => d.child_uuid).filter((c) => !set.has(c));
        frontier = [...new Set(children)];
        for (const child of frontier) set.add(child);
      }
      return [...set].reverse();
    }
    if (!request.force && !request.data_only) {
      const outside = (await this.store.getDependents(chosen)).filter((d) => !set.has(d.child_uuid));
      const first = outside[0];
      if (first) {
        const children = await this.store.getBundles([...new Set(outside.map((d) => d.child_uuid))]);
        // Name a dependent the caller may read; of the others, say only how many there are.
        const readable = await this.access.readable('bundle', user, children);
        const shown = children.find((c) => readable.has(c.uuid));
        const example = shown ? `, e.g. ${shown.name} (${shown.uuid})` : ', none of which you can read';
        throw new ApiError(
          'conflict',
          `Cannot delete ${first.parent_uuid}: ${children.length} bundle(s) depend on it${example}; ` +
            'use -r to delete them too, or --force to leave them dangling.',
        );
      }
    }
    return chosen;
  }

  private async checkHosts(targets: string[], byUuid: Map<string, BundleRow>): Promise<void> {
    const hosts = await this.store.getHostWorksheets(targets);
    for (const [uuid, worksheets] of hosts) {
      if (new Set(worksheets).size > 1) {
        throw new ApiError(
          'conflict',
          `Cannot delete ${byUuid.get(uuid)?.name ?? ''} (${uuid}): it is on ${new Set(worksheets).size} worksheets; use --force, or cl detach it first.`,
        );
      }
    }
  }

  /** The bundles made from this one that the caller may read. */
  async children(user: User, uuid: string): Promise<Bundle[]> {
    await this.access.requireBundle(user, await this.getRow(uuid), 'read', 'read');
    const deps = await this.store.getDependents([uuid]);
    const rows = await this.store.getBundles([...new Set(deps.map((d) => d.child_uuid))]);
    const readable = await this.access.readable('bundle', user, rows);
    return toApiBundles(this.store, rows.filter((r) => readable.has(r.uuid)), user, this.access);
  }

  async verboseInfo(user: User, uuid: string): Promise<BundleVerboseInfo> {
    const row = await this.getRow(uuid);
    await this.access.requireBundle(user, row, 'read', 'read');
    const hosts = [...new Set((await this.store.getHostWorksheets([uuid])).get(uuid) ?? [])];
    const rows = (await Promise.all(hosts.map((h) => this.store.getWorksheetByUuid(h)))).filter((w) => w !== undefined);
    // Worksheets the caller may not read are left out: their names are not theirs to see.
    const readable = await this.access.readable('worksheet', user, rows);
    const worksheets = rows.filter((w) => readable.has(w.uuid)).map((w) => ({ uuid: w.uuid, name: w.name }));
    const grants = (await this.store.getGrants('bundle', [uuid])).get(uuid) ?? [];
    return {
      host_worksheets: worksheets,
      permission: await this.access.level('bundle', user, row),
      group_permissions: grants.map((g) => ({ group_uuid: g.group_uuid, group_name: g.group_name, permission: levelName(g.permission) })),
    };
  }

  /** The caller's newest ready bundle with this command and exactly these (key, parent) pairs. */
  async memo(user: User, request: MemoRequest): Promise<string | null> {
    const wanted = new Set(request.dependencies.map((d) => `${d.child_path}\u0000${d.parent_uuid}`));
    const candidates = (await this.store.findBundlesByCommand(user.id, request.command, 200)).filter((r) => r.state === 'ready');
    const deps = await this.store.getDependencies(candidates.map((c) => c.uuid));
    for (const candidate of candidates) {
      const own = deps.filter((d) => d.child_uuid === candidate.uuid).map((d) => `${d.child_path}\u0000${d.parent_uuid}`);
      if (own.length === wanted.size && own.every((key) => wanted.has(key))) return candidate.uuid;
    }
    return null;
  }

  private async getRow(uuid: string): Promise<BundleRow> {
    const [row] = await this.store.getBundles([uuid]);
    if (!row) throw new ApiError('not_found', `No bundle with uuid ${uuid}.`);
    return row;
  }
}

async function asBadRequest<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof UserInputError) throw new ApiError('bad_request', error.message);
    throw error;
  }
}
