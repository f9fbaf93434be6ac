// The Store: every query the server makes, behind one narrow interface so that SQLite (the
// embedded default) and later PostgreSQL implement the same operations and pass one suite.
// Rows here are storage shapes; services turn them into protocol objects.
import type { ClusterStore } from './cluster-store.js';
import type { BundleState, BundleType, Dependency, Metadata } from '../../protocol/index.js';
import type { AccessStore } from './access-store.js';
import type { BundleQuery } from './bundle-query.js';

export interface UserRow {
  id: string;
  user_name: string;
  password_hash: string;
  is_root: boolean;
  created: number;
  email: string | null;
  /** Epoch ms of the last password login; null when never. */
  last_login: number | null;
  /** False once root removed the user's access (`cl uedit --remove-access`): no logins, no tokens. */
  is_active: boolean;
  /** The user's own quotas; null means the server's default (`--default-user-*-quota`). */
  quotas: UserQuotaSettings;
  /** Run-seconds used on shared (root-owned) workers. */
  time_used: number;
}

export interface UserQuotaSettings {
  /** Bytes of bundle contents the user may own. */
  disk: number | null;
  /** Run-seconds on shared workers. */
  time: number | null;
  /** Runs at once on shared workers. */
  parallel_runs: number | null;
}

/** A user as inserted: active, with the server's default quotas and nothing used. */
export type NewUserRow = Omit<UserRow, 'is_active' | 'quotas' | 'time_used'>;

/** What root may change on a user (`cl uedit`); absent keys are left alone. */
export interface UserAccountChange {
  quotas?: Partial<UserQuotaSettings>;
  is_active?: boolean;
}

/**
 * Access tokens authorise requests; refresh tokens only buy new access tokens. The worker_ kinds
 * are a worker's (client id codalab_worker_client): accepted on worker routes only.
 */
export type TokenKind = 'access' | 'refresh' | 'worker_access' | 'worker_refresh';

export interface TokenRow {
  user_id: string;
  expires_at: number;
  kind: TokenKind;
}

/** What a user owns, which keeps them from being deleted (empty worksheets do not count). */
export interface UserHoldings {
  bundles: number;
  worksheets: number;
  workers: number;
  /** Groups they own (their members would lose what was shared with the group). */
  groups: number;
}

export interface WorksheetRow {
  uuid: string;
  name: string;
  title: string | null;
  owner_id: string;
  created: number;
}

export interface BundleRow {
  uuid: string;
  bundle_type: BundleType;
  command: string | null;
  state: BundleState;
  owner_id: string;
  is_dir: boolean | null;
  created: number;
  last_updated: number;
  metadata: Metadata;
  name: string;
  worker_owner_id: string | null;
  worker_id: string | null;
  assignment_id: string | null;
  kill_requested: boolean;
  /** When the bundle entered its current state (epoch ms); kept by the store on every state change. */
  state_since: number;
}

/** A bundle as inserted: it enters its state at `last_updated`. */
export type NewBundleRow = Omit<BundleRow, 'state_since'>;

/** A worker's identity: its owner and its id (unique per owner). */
export interface WorkerKey {
  owner_id: string;
  id: string;
}

export interface WorkerRow {
  owner_id: string;
  id: string;
  hostname: string;
  tag: string | null;
  tag_exclusive: boolean;
  cpus: number;
  gpus: number;
  memory_bytes: number;
  free_disk_bytes: number;
  slots: number;
  runs_left: number | null;
  cached_dependencies: string[];
  docker_ok: boolean;
  docker_message: string | null;
  checkin_time: number;
  /** The most GPUs the worker has ever reported (kept by the store; ignored on upsert). */
  gpus_seen?: number;
  /** `--group`: the group whose members' runs this private worker also takes. */
  group_uuid?: string | null;
  /** `--shared-file-system`: the worker mounts dependencies from the bundle store's paths. */
  shared_file_system?: boolean;
  /** The server (its advertised URL) the worker last talked to; null when it has not said. An upsert without one keeps the last. */
  server_url?: string | null;
}

/** Conditions a bundle must meet for an update to apply (STYLE habit 3: guarded updates). */
export interface BundleGuard {
  states?: readonly BundleState[];
  assignment_id?: string;
  worker?: { owner_id: string; id: string };
}

export interface BundleChange {
  state?: BundleState;
  is_dir?: boolean | null;
  name?: string;
  /** Keys merged into the metadata; a null value is stored as null. */
  metadata?: Metadata;
  worker_owner_id?: string | null;
  worker_id?: string | null;
  assignment_id?: string | null;
  kill_requested?: boolean;
  last_updated: number;
}

export interface Store extends AccessStore {
  migrate(): Promise<void>;
  close(): Promise<void>;
  /** Servers sharing this database, and the leases between them (cluster-store.ts). */
  readonly cluster: ClusterStore;

  insertUser(user: NewUserRow): Promise<void>;
  getUserByName(userName: string): Promise<UserRow | undefined>;
  getUsersByIds(ids: readonly string[]): Promise<UserRow[]>;

  /** Applies the change in one transaction; deactivating also deletes all the user's tokens. */
  updateUserAccount(userId: string, change: UserAccountChange): Promise<void>;
  /** Adds run-seconds used on shared workers. */
  addUserTimeUsed(userId: string, seconds: number): Promise<void>;
  /** Bundles the user owns and the sum of their data_size, in bytes. */
  getUserDiskUsage(userId: string): Promise<{ bundles: number; disk_used: number }>;

  /** Every user, oldest first. */
  listUsers(): Promise<UserRow[]>;
  setUserPassword(userId: string, passwordHash: string): Promise<void>;
  setUserLastLogin(userId: string, time: number): Promise<void>;
  /**
   * In one transaction: counts what the user owns and, only when that is nothing, deletes the user
   * with their tokens and empty worksheets. Returns the counts (all zero: deleted).
   */
  deleteUserIfOwnsNothing(userId: string): Promise<UserHoldings>;

  insertToken(tokenHash: string, userId: string, expiresAt: number, kind: TokenKind): Promise<void>;
  getToken(tokenHash: string): Promise<TokenRow | undefined>;
  /** The token and its user in one lookup (every request's authentication); user undefined when gone. */
  getTokenWithUser(tokenHash: string): Promise<{ token: TokenRow; user: UserRow | undefined } | undefined>;
  /** Returns whether a token was deleted. */
  deleteToken(tokenHash: string): Promise<boolean>;
  /** Every token of the user, access and refresh (after a password change). */
  deleteTokensOfUser(userId: string): Promise<void>;
  deleteTokensExpiredBefore(time: number): Promise<void>;

  insertWorksheet(worksheet: WorksheetRow): Promise<void>;
  getWorksheetByName(name: string): Promise<WorksheetRow | undefined>;
  getWorksheetByUuid(uuid: string): Promise<WorksheetRow | undefined>;
  /** `readableBy`: only worksheets that user may read; null for every worksheet (root). */
  findWorksheetsByUuidPrefix(prefix: string, limit: number, readableBy: string | null): Promise<WorksheetRow[]>;
  addWorksheetItem(worksheetUuid: string, bundleUuid: string): Promise<void>;
  /** Bundle uuids on the worksheet, oldest first. */
  listWorksheetBundleUuids(worksheetUuid: string): Promise<string[]>;

  /**
   * Inserts the bundle, its dependencies and (optionally) its worksheet item in one transaction;
   * on a worksheet, the bundle gets the worksheet's grants.
   */
  insertBundle(bundle: NewBundleRow, dependencies: readonly Dependency[], worksheetUuid: string | null): Promise<void>;
  getBundles(uuids: readonly string[]): Promise<BundleRow[]>;
  /** `readableBy`: only bundles that user may read; null for every bundle (root). */
  findBundlesByUuidPrefix(prefix: string, limit: number, readableBy: string | null): Promise<BundleRow[]>;
  /** Bundles whose name matches a SQL LIKE pattern, newest first. */
  findBundlesByName(likePattern: string, limit: number, readableBy: string | null): Promise<BundleRow[]>;
  listBundlesInStates(states: readonly BundleState[]): Promise<BundleRow[]>;
  listBundlesOfWorker(ownerId: string, workerId: string, states: readonly BundleState[]): Promise<BundleRow[]>;
  /** Applies the change when the guard holds; returns whether a row changed. */
  updateBundle(uuid: string, change: BundleChange, guard?: BundleGuard): Promise<boolean>;
  /** Sets metadata.staged_status (and last_updated) of each run that is still staged, in one go. */
  setStagedStatuses(statuses: ReadonlyMap<string, string>, time: number): Promise<void>;
  getDependencies(childUuids: readonly string[]): Promise<(Dependency & { child_uuid: string })[]>;

  upsertWorker(worker: WorkerRow): Promise<void>;
  /** Records a sign of life; `serverUrl`, when given, is the server the worker now talks to. */
  touchWorker(ownerId: string, workerId: string, time: number, serverUrl?: string | null): Promise<void>;
  getWorker(ownerId: string, workerId: string): Promise<WorkerRow | undefined>;
  listWorkers(): Promise<WorkerRow[]>;
  /** The last check-in of each of these workers that exists (in no particular order): what bounding held runs needs. */
  getWorkerCheckinTimes(keys: readonly WorkerKey[]): Promise<(WorkerKey & { checkin_time: number })[]>;

  // Researcher operations (search, rm, worksheets): see services/search-service.ts and friends.
  /** Rows matching the query, or the count/sum when the query aggregates. */
  searchBundles(query: BundleQuery): Promise<{ rows: BundleRow[]; result: number | null }>;
  /** Dependency rows whose parent is one of `parentUuids`. */
  getDependents(parentUuids: readonly string[]): Promise<(Dependency & { child_uuid: string })[]>;
  /** Deletes bundles with their dependency rows and worksheet items, in one transaction. */
  deleteBundles(uuids: readonly string[]): Promise<void>;
  /** The worksheets holding each bundle (one entry per bundle that is on any worksheet). */
  getHostWorksheets(bundleUuids: readonly string[]): Promise<Map<string, string[]>>;
  /** The owner's bundles with this command, newest first. */
  findBundlesByCommand(ownerId: string, command: string, limit: number): Promise<BundleRow[]>;
  /** Worksheets whose name matches a LIKE pattern (null: all), optionally of one owner, by name. */
  listWorksheets(nameLike: string | null, ownerId: string | null, limit: number, offset: number, readableBy: string | null): Promise<WorksheetRow[]>;
  deleteWorksheet(uuid: string): Promise<void>;
  addWorksheetMarkup(worksheetUuid: string, value: string): Promise<void>;
  /** Every item, oldest first; bundle items whose bundle is gone are left out. */
  listWorksheetItems(worksheetUuid: string): Promise<WorksheetItemRow[]>;
  /** Removes one bundle item (the `index`-th occurrence from the end, 1-based) or all of them. */
  removeWorksheetBundleItems(worksheetUuid: string, bundleUuid: string, index: number | null): Promise<number>;
}

export interface WorksheetItemRow {
  id: number;
  item_type: 'bundle' | 'markup';
  bundle_uuid: string;
  value: string | null;
}
