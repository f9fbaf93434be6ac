// Sharing: `cl perm` and `cl wperm` set one group's permission on bundles or a worksheet (the
// caller needs `all` on each), and root's `cl chown` gives bundles to another user. Every check
// runs before any change, so a refused request changes nothing.
import {
  ApiError,
  type ChownRequest,
  type ChownResponse,
  type PermissionChange,
  type SetBundlePermissionRequest,
  type SetWorksheetPermissionRequest,
  type User,
} from '../../protocol/index.js';
import { isFrozen, unfreezeHint } from '../services/frozen.js';
import type { Store } from '../store/store.js';
import { levelOf, type AccessControl } from './access-control.js';
import type { GroupService } from './group-service.js';

export class SharingService {
  constructor(
    private readonly store: Store,
    private readonly access: AccessControl,
    private readonly groups: GroupService,
  ) {}

  async setBundlePermission(user: User, request: SetBundlePermissionRequest): Promise<PermissionChange> {
    const group = await this.groups.resolve(user, request.group);
    const uuids = [...new Set(request.uuids)];
    const rows = new Map((await this.store.getBundles(uuids)).map((r) => [r.uuid, r]));
    for (const uuid of uuids) {
      const row = rows.get(uuid);
      if (!row) throw new ApiError('not_found', `No bundle with uuid ${uuid}.`);
      await this.access.requireBundle(user, row, 'all', 'change the permissions of');
      if (isFrozen(row)) throw new ApiError('conflict', `Cannot change the permissions of ${row.name} (${uuid}): it is frozen; ${unfreezeHint(row)}.`);
    }
    await this.store.setGrant('bundle', uuids, group.uuid, levelOf(request.permission));
    return { group_uuid: group.uuid, group_name: group.name, permission: request.permission, uuids };
  }

  async setWorksheetPermission(user: User, request: SetWorksheetPermissionRequest): Promise<PermissionChange> {
    const group = await this.groups.resolve(user, request.group);
    const row = await this.store.getWorksheetByUuid(request.worksheet);
    if (!row) throw new ApiError('not_found', `No worksheet with uuid ${request.worksheet}.`);
    await this.access.requireWorksheet(user, row, 'all', 'change the permissions of');
    await this.store.setGrant('worksheet', [row.uuid], group.uuid, levelOf(request.permission));
    return { group_uuid: group.uuid, group_name: group.name, permission: request.permission, uuids: [row.uuid] };
  }

  async chown(user: User, request: ChownRequest): Promise<ChownResponse> {
    if (!user.is_root) throw new ApiError('forbidden', `Only root may change the owner of bundles; you are '${user.user_name}'.`);
    const owner = await this.store.getUserByName(request.user_name);
    if (!owner) throw new ApiError('not_found', `No user named '${request.user_name}'.`);
    const uuids = [...new Set(request.uuids)];
    const found = new Set((await this.store.getBundles(uuids)).map((r) => r.uuid));
    const missing = uuids.find((u) => !found.has(u));
    if (missing) throw new ApiError('not_found', `No bundle with uuid ${missing}.`);
    await this.store.setBundleOwner(uuids, owner.id);
    return { uuids, owner_name: owner.user_name };
  }
}
