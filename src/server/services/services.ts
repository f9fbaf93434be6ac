// The server's services, wired together once at start-up.
import type { BlobStore } from '../blobs/blob-store.js';
import type { AccessControl } from '../permissions/access-control.js';
import type { GroupService } from '../permissions/group-service.js';
import type { SharingService } from '../permissions/sharing-service.js';
import type { QuotaService } from '../quotas/quota-service.js';
import type { Store } from '../store/store.js';
import type { AuthService } from './auth-service.js';
import type { UserService } from './user-service.js';
import type { BundleService } from './bundle-service.js';
import type { ContentsService } from './contents-service.js';
import type { LiveContentsService } from './live-contents.js';
import type { LivePortsService } from './live-ports.js';
import type { WorkerRelay } from './worker-relay.js';
import type { WorkerService } from './worker-service.js';
import type { WorksheetService } from './worksheet-service.js';

export interface Services {
  store: Store;
  blobs: BlobStore;
  auth: AuthService;
  users: UserService;
  worksheets: WorksheetService;
  bundles: BundleService;
  contents: ContentsService;
  workers: WorkerService;
  /** Requests relayed to the workers connected to this server, and their replies. */
  relay: WorkerRelay;
  /** What other servers of the database present to forward requests here; null on a lone SQLite server. */
  peerSecret: string | null;
  live: LiveContentsService;
  /** `cl netcat` and the HTTP proxy into running bundles. */
  ports: LivePortsService;
  /** Per-user quotas and access: `cl uinfo`, `cl uedit`. */
  quotas: QuotaService;
  /** Who may read and change each bundle and worksheet. */
  access: AccessControl;
  groups: GroupService;
  /** `cl perm`, `cl wperm`, `cl chown`. */
  sharing: SharingService;
}
