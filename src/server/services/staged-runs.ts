// The staged runs a worker manager may start workers for, with their requests and the scheduler's
// waiting reason. Root sees every user's runs; anyone else only their own, since the workers they
// can start are private to them. Reads only; the scheduler stays the one that places runs.
import { ApiError, type StagedRunInfo, type StagedRunsQuery, type User } from '../../protocol/index.js';
import { requestedQueue, resolveResources, type ResourceDefaults } from '../scheduling/resources.js';
import { schedulerWaitingReason } from '../scheduling/state-bounds.js';
import type { Store } from '../store/store.js';

export async function listStagedRuns(
  store: Store,
  defaults: ResourceDefaults,
  user: User,
  query: StagedRunsQuery,
): Promise<StagedRunInfo[]> {
  const ownerId = await ownerFilter(store, user, query.user);
  const staged = await store.listBundlesInStates(['staged']);
  const runs = staged.filter(
    (r) => r.bundle_type === 'run' && (ownerId === null || r.owner_id === ownerId) && (query.queue === undefined || requestedQueue(r.metadata) === query.queue),
  );
  const owners = new Map((await store.getUsersByIds([...new Set(runs.map((r) => r.owner_id))])).map((u) => [u.id, u.user_name]));
  return runs.map((r) => {
    const resources = resolveResources(r.metadata, defaults);
    return {
      uuid: r.uuid,
      owner_name: owners.get(r.owner_id) ?? r.owner_id,
      queue: requestedQueue(r.metadata),
      cpus: resources.cpus,
      gpus: resources.gpus,
      memory_bytes: resources.memory,
      disk_bytes: resources.disk,
      docker_image: resources.docker_image,
      waiting_reason: schedulerWaitingReason(r.metadata.staged_status),
      last_updated: r.last_updated,
    };
  });
}

/** The owner whose runs the caller sees: null = everyone's (root without a `user` filter). */
async function ownerFilter(store: Store, user: User, userName: string | undefined): Promise<string | null> {
  if (!user.is_root) {
    if (userName !== undefined && userName !== user.user_name) {
      throw new ApiError('forbidden', `Only root may list the staged runs of another user (${userName}); leave out user= to list your own.`);
    }
    return user.id;
  }
  if (userName === undefined) return null;
  const row = await store.getUserByName(userName);
  if (row === undefined) throw new ApiError('not_found', `No user named '${userName}'.`);
  return row.id;
}
