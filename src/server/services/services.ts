// The server's services, wired together once at start-up.
import type { BlobStore } from '../blobs/blob-store.js';
import type { Store } from '../store/store.js';
import type { AuthService } from './auth-service.js';
import type { BundleService } from './bundle-service.js';
import type { ContentsService } from './contents-service.js';
import type { WorkerService } from './worker-service.js';
import type { WorksheetService } from './worksheet-service.js';

export interface Services {
  store: Store;
  blobs: BlobStore;
  auth: AuthService;
  worksheets: WorksheetService;
  bundles: BundleService;
  contents: ContentsService;
  workers: WorkerService;
}
