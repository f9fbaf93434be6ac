// The Store's share of groups and permissions (migration 007). A grant gives one group a level on
// one bundle or worksheet; levels are numbers so the database can take their maximum. The owner
// and root are not grants: services add them (permissions/access-control.ts).

/** The built-in group every user belongs to without a membership row. */
export const PUBLIC_GROUP_UUID = '0x00000000000000000000000000000000';
export const PUBLIC_GROUP_NAME = 'public';

/** 0 none, 1 read, 2 all. */
export type Level = 0 | 1 | 2;
/** What a grant row may hold: `none` is the absence of a row. */
export type GrantLevel = 1 | 2;

export interface GroupRow {
  uuid: string;
  name: string;
  /** Null only for the public group. */
  owner_id: string | null;
  created: number;
}

export interface GroupMemberRow {
  group_uuid: string;
  user_id: string;
  is_admin: boolean;
}

export interface GrantRow {
  object_uuid: string;
  group_uuid: string;
  group_name: string;
  permission: GrantLevel;
}

export type ObjectKind = 'bundle' | 'worksheet';

export interface AccessStore {
  /** Inserts the group with its creator as its first admin, in one transaction. */
  insertGroup(group: GroupRow): Promise<void>;
  getGroups(uuids: readonly string[]): Promise<GroupRow[]>;
  getGroupByName(name: string): Promise<GroupRow | undefined>;
  findGroupsByUuidPrefix(prefix: string, limit: number): Promise<GroupRow[]>;
  /** Every group (memberId null) or those with the user as a member, by name; never the public group. */
  listGroups(memberId: string | null): Promise<GroupRow[]>;
  /** Deletes the group with its memberships and grants. */
  deleteGroup(uuid: string): Promise<void>;
  listGroupMembers(groupUuid: string): Promise<GroupMemberRow[]>;
  /** Adds the member or changes their admin flag. */
  putGroupMember(member: GroupMemberRow): Promise<void>;
  /** Returns whether a membership was removed. */
  removeGroupMember(groupUuid: string, userId: string): Promise<boolean>;
  /** Uuids of the groups the user is a member of (not counting public). */
  listGroupUuidsOf(userId: string): Promise<string[]>;

  /** Grants on each object, by object uuid (objects without grants are absent). */
  getGrants(kind: ObjectKind, objectUuids: readonly string[]): Promise<Map<string, GrantRow[]>>;
  /** Sets one group's level on the objects; level 0 removes the grant. */
  setGrant(kind: ObjectKind, objectUuids: readonly string[], groupUuid: string, level: Level): Promise<void>;
  /**
   * The highest level the user holds on each object through grants to public and to their groups
   * (ownership and root are not considered here); objects with none are absent.
   */
  grantedLevels(kind: ObjectKind, userId: string, objectUuids: readonly string[]): Promise<Map<string, GrantLevel>>;
  /** Gives the bundles to another owner (`cl chown`). */
  setBundleOwner(uuids: readonly string[], ownerId: string): Promise<void>;
}
