// Groups and sharing (CodaLab's model): groups of users with admins, the built-in `public` group
// every user is in, and per-group permissions on bundles and worksheets (`cl perm`, `cl wperm`),
// plus root's `cl chown`.
//
//   GET    /rest/groups                           -> GroupList (yours; root: every group)
//   POST   /rest/groups                           CreateGroupRequest -> GroupInfo
//   GET    /rest/groups/:spec                     -> GroupInfo (members and root)
//   DELETE /rest/groups/:spec                     -> Group (its owner and root)
//   PUT    /rest/groups/:spec/members/:user       PutMemberRequest -> GroupInfo (admins and root)
//   DELETE /rest/groups/:spec/members/:user       -> GroupInfo (admins, root, or the member leaving)
//   POST   /rest/bundle-permissions               SetBundlePermissionRequest -> PermissionChange
//   POST   /rest/worksheet-permissions            SetWorksheetPermissionRequest -> PermissionChange
//   POST   /rest/bundle-owner                     ChownRequest -> ChownResponse (root)
import { z } from 'zod';
import { Permission } from './bundle-ops.js';
import { REST } from './routes.js';
import { Uuid } from './bundles.js';

export const GROUP_NAME_PATTERN = /^[a-zA-Z_][a-zA-Z0-9_.-]{0,63}$/;
export const GROUP_NAME_RULE = "start with a letter or '_', then up to 63 letters, digits, '_', '.' or '-'";

export const Group = z.object({
  uuid: z.string(),
  name: z.string(),
  /** Null for the public group. */
  owner_name: z.string().nullable(),
  /** Whether the caller may change its members. */
  is_admin: z.boolean(),
});
export type Group = z.infer<typeof Group>;

export const GroupMember = z.object({ user_id: z.string(), user_name: z.string(), is_admin: z.boolean() });
export type GroupMember = z.infer<typeof GroupMember>;

export const GroupInfo = Group.extend({ members: z.array(GroupMember) });
export type GroupInfo = z.infer<typeof GroupInfo>;

export const GroupList = z.object({ groups: z.array(Group) });
export type GroupList = z.infer<typeof GroupList>;

export const CreateGroupRequest = z.object({ name: z.string() });
export type CreateGroupRequest = z.infer<typeof CreateGroupRequest>;

export const PutMemberRequest = z.object({ is_admin: z.boolean().default(false) });
export type PutMemberRequest = z.infer<typeof PutMemberRequest>;

/** At most this many bundles change in one `cl perm` or `cl chown`. */
export const SHARE_MAX_BUNDLES = 1000;

/** `group` is a group spec: a name, a uuid or uuid prefix, or `public`. */
export const SetBundlePermissionRequest = z.object({
  uuids: z.array(Uuid).min(1).max(SHARE_MAX_BUNDLES),
  group: z.string().min(1).max(200),
  permission: Permission,
});
export type SetBundlePermissionRequest = z.infer<typeof SetBundlePermissionRequest>;

export const SetWorksheetPermissionRequest = z.object({
  worksheet: Uuid,
  group: z.string().min(1).max(200),
  permission: Permission,
});
export type SetWorksheetPermissionRequest = z.infer<typeof SetWorksheetPermissionRequest>;

export const PermissionChange = z.object({
  group_uuid: z.string(),
  group_name: z.string(),
  permission: Permission,
  uuids: z.array(Uuid),
});
export type PermissionChange = z.infer<typeof PermissionChange>;

export const ChownRequest = z.object({ uuids: z.array(Uuid).min(1).max(SHARE_MAX_BUNDLES), user_name: z.string().min(1) });
export type ChownRequest = z.infer<typeof ChownRequest>;

export const ChownResponse = z.object({ uuids: z.array(Uuid), owner_name: z.string() });
export type ChownResponse = z.infer<typeof ChownResponse>;

export const groupRoutes = {
  groups: () => `${REST}/groups`,
  group: (spec: string) => `${REST}/groups/${encodeURIComponent(spec)}`,
  member: (spec: string, userName: string) => `${REST}/groups/${encodeURIComponent(spec)}/members/${encodeURIComponent(userName)}`,
  bundlePermissions: () => `${REST}/bundle-permissions`,
  worksheetPermissions: () => `${REST}/worksheet-permissions`,
  bundleOwner: () => `${REST}/bundle-owner`,
} as const;
