// Groups: made by any user (who becomes their owner and first admin), changed by their admins,
// seen by their members, deleted by their owner; root may do all of it. The public group is
// built in: everyone is in it, it lists no members and it cannot be changed.
import {
  ApiError,
  GROUP_NAME_PATTERN,
  GROUP_NAME_RULE,
  type Group,
  type GroupInfo,
  type GroupList,
  type User,
} from '../../protocol/index.js';
import type { Clock } from '../../common/clock.js';
import type { IdSource } from '../ids.js';
import { PUBLIC_GROUP_NAME, PUBLIC_GROUP_UUID, type GroupMemberRow, type GroupRow } from '../store/access-store.js';
import type { Store } from '../store/store.js';

const MAX_PREFIX_MATCHES = 10;

export class GroupService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly ids: IdSource,
  ) {}

  /**
   * A group by name, uuid or uuid prefix (`public` included). Anyone may name any group exactly
   * (to share with it); a prefix matches only the caller's own groups, so probing prefixes
   * reveals no one else's.
   */
  async resolve(user: User, spec: string): Promise<GroupRow> {
    const byName = await this.store.getGroupByName(spec);
    if (byName) return byName;
    if (/^0x[0-9a-f]{1,32}$/.test(spec)) {
      const mine = user.is_root ? null : new Set([PUBLIC_GROUP_UUID, ...(await this.store.listGroupUuidsOf(user.id))]);
      const found = await this.store.findGroupsByUuidPrefix(spec, MAX_PREFIX_MATCHES + 1);
      const rows = spec.length === 34 || mine === null ? found : found.filter((g) => mine.has(g.uuid));
      if (rows.length > 1) throw new ApiError('ambiguous', `Group uuid prefix ${spec} is ambiguous; give more of it, or the group's name.`);
      if (rows[0]) return rows[0];
    }
    throw new ApiError('not_found', `No group '${spec}'; see your groups with 'cl gls'.`);
  }

  async create(user: User, name: string): Promise<GroupInfo> {
    if (!GROUP_NAME_PATTERN.test(name)) throw new ApiError('bad_request', `Invalid group name '${name}': ${GROUP_NAME_RULE}.`);
    const taken = (): ApiError => new ApiError('conflict', `A group named '${name}' already exists; pick another name.`);
    if (await this.store.getGroupByName(name)) throw taken();
    const row: GroupRow = { uuid: this.ids.uuid(), name, owner_id: user.id, created: this.clock.now() };
    try {
      await this.store.insertGroup(row);
    } catch (error) {
      // Two creators raced for the name; the UNIQUE constraint decided.
      if (await this.store.getGroupByName(name)) throw taken();
      throw error;
    }
    return this.info(user, row.uuid);
  }

  /** The groups the caller is in (root: every group), by name; public is implicit and not listed. */
  async list(user: User): Promise<GroupList> {
    const rows = await this.store.listGroups(user.is_root ? null : user.id);
    return { groups: await Promise.all(rows.map((r) => this.toApi(user, r))) };
  }

  async info(user: User, spec: string): Promise<GroupInfo> {
    const row = await this.resolve(user, spec);
    const members = await this.store.listGroupMembers(row.uuid);
    if (!user.is_root && row.uuid !== PUBLIC_GROUP_UUID && !members.some((m) => m.user_id === user.id)) {
      throw new ApiError('forbidden', `You are not a member of group '${row.name}'; ask one of its admins to add you (cl uadd).`);
    }
    const names = new Map((await this.store.getUsersByIds(members.map((m) => m.user_id))).map((u) => [u.id, u.user_name]));
    return {
      ...(await this.toApi(user, row, members)),
      members: members.map((m) => ({ user_id: m.user_id, user_name: names.get(m.user_id) ?? m.user_id, is_admin: m.is_admin })),
    };
  }

  async delete(user: User, spec: string): Promise<Group> {
    const row = await this.changeable(user, spec, 'delete');
    if (!user.is_root && row.owner_id !== user.id) {
      throw new ApiError('forbidden', `Only the owner of group '${row.name}' or root may delete it.`);
    }
    const shown = await this.toApi(user, row);
    await this.store.deleteGroup(row.uuid);
    return shown;
  }

  /** Adds the user (or changes their admin flag); the caller must be an admin of the group. */
  async addMember(user: User, spec: string, userName: string, isAdmin: boolean): Promise<GroupInfo> {
    const row = await this.changeable(user, spec, 'add members to');
    await this.requireAdmin(user, row, 'add members to');
    const member = await this.store.getUserByName(userName);
    if (!member) throw new ApiError('not_found', `No user named '${userName}'.`);
    if (!isAdmin && member.id === row.owner_id) {
      throw new ApiError('bad_request', `'${userName}' owns group '${row.name}' and stays its admin.`);
    }
    await this.store.putGroupMember({ group_uuid: row.uuid, user_id: member.id, is_admin: isAdmin });
    return this.info(user, row.uuid);
  }

  /** Removes the user; admins and root remove anyone but the owner, and every member may leave. */
  async removeMember(user: User, spec: string, userName: string): Promise<GroupInfo> {
    const row = await this.changeable(user, spec, 'remove members from');
    const member = await this.store.getUserByName(userName);
    if (!member) throw new ApiError('not_found', `No user named '${userName}'.`);
    if (member.id !== user.id) await this.requireAdmin(user, row, 'remove members from');
    if (member.id === row.owner_id) {
      throw new ApiError('bad_request', `'${userName}' owns group '${row.name}' and cannot leave it; delete the group instead (cl grm).`);
    }
    if (!(await this.store.removeGroupMember(row.uuid, member.id))) {
      throw new ApiError('not_found', `'${userName}' is not a member of group '${row.name}'.`);
    }
    // The member who left may no longer see the group: answer with what they may see.
    return member.id === user.id && !user.is_root ? { ...(await this.toApi(user, row)), members: [] } : this.info(user, row.uuid);
  }

  private async changeable(user: User, spec: string, action: string): Promise<GroupRow> {
    const row = await this.resolve(user, spec);
    if (row.uuid === PUBLIC_GROUP_UUID) {
      throw new ApiError('forbidden', `You may not ${action} the '${PUBLIC_GROUP_NAME}' group: every user is in it.`);
    }
    return row;
  }

  private async requireAdmin(user: User, row: GroupRow, action: string): Promise<void> {
    if (user.is_root) return;
    const members = await this.store.listGroupMembers(row.uuid);
    if (!members.some((m) => m.user_id === user.id && m.is_admin)) {
      throw new ApiError('forbidden', `You may not ${action} group '${row.name}': only its admins may (see them with 'cl ginfo ${row.name}').`);
    }
  }

  /** `known`: the group's memberships, when the caller has read them already. */
  private async toApi(user: User, row: GroupRow, known?: GroupMemberRow[]): Promise<Group> {
    const [owner] = row.owner_id === null ? [] : await this.store.getUsersByIds([row.owner_id]);
    const members = row.owner_id === null ? [] : (known ?? (await this.store.listGroupMembers(row.uuid)));
    const isAdmin = row.owner_id !== null && (user.is_root || members.some((m) => m.user_id === user.id && m.is_admin));
    return { uuid: row.uuid, name: row.name, owner_name: owner?.user_name ?? null, is_admin: isAdmin };
  }
}
