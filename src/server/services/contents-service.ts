// Bundle contents through the API: uploads of datasets, listings and downloads. A path inside a
// run that starts with one of its dependency keys is resolved into that dependency. Knows which
// uploads are in progress, so a dataset left `uploading` with none arriving is failed.
import type { Readable } from 'node:stream';
import { ApiError, type Bundle, type TargetInfo, type User } from '../../protocol/index.js';
import type { BlobStore } from '../blobs/blob-store.js';
import type { ResolvedPath } from '../blobs/safe-path.js';
import type { Clock } from '../../common/clock.js';
import { decideUploadBound, UPLOAD_INTERRUPTED_MESSAGE } from '../scheduling/state-bounds.js';
import type { BundleRow, Store } from '../store/store.js';
import type { BundleService } from './bundle-service.js';
import type { Caller } from '../permissions/access-control.js';

const MAX_DEPENDENCY_HOPS = 32;

export interface ReadTarget {
  uuid: string;
  subpath: string;
}

export interface UploadLimits {
  maxUploadBytes: number;
  /** A new dataset with no upload arriving fails after this long (`--upload-timeout-seconds`). */
  uploadTimeoutSeconds: number;
}

export class ContentsService {
  /** Datasets whose upload is streaming into this server process now. */
  private readonly uploadsInProgress = new Set<string>();

  constructor(
    private readonly store: Store,
    private readonly blobs: BlobStore,
    private readonly bundles: BundleService,
    private readonly clock: Clock,
    private readonly limits: UploadLimits,
  ) {}

  /**
   * At server start: no upload survives a restart (its bytes went to staging, which start clears),
   * so every dataset still `uploading` fails, saying to upload it again.
   */
  async failInterruptedUploads(): Promise<number> {
    let failed = 0;
    for (const row of await this.store.listBundlesInStates(['uploading'])) {
      const change = { state: 'failed' as const, last_updated: this.clock.now(), metadata: { failure_message: UPLOAD_INTERRUPTED_MESSAGE } };
      if (await this.store.updateBundle(row.uuid, change, { states: ['uploading'] })) failed += 1;
    }
    return failed;
  }

  /**
   * Marks the uploads streaming into this server as alive, so that the scheduling server (which
   * may be another one, blind to this server's uploads) does not fail them for their age.
   */
  async keepUploadsAlive(): Promise<void> {
    const now = this.clock.now();
    for (const uuid of this.uploadsInProgress) {
      await this.store.updateBundle(uuid, { last_updated: now }, { states: ['uploading'] });
    }
  }

  /** A pass step: fails datasets whose upload has not arrived within the timeout; true when any failed. */
  async failAbandonedUploads(): Promise<boolean> {
    let failed = false;
    const now = this.clock.now();
    for (const row of await this.store.listBundlesInStates(['uploading'])) {
      const message = decideUploadBound(row.last_updated, this.uploadsInProgress.has(row.uuid), now, this.limits.uploadTimeoutSeconds);
      if (message === null) continue;
      const change = { state: 'failed' as const, last_updated: now, metadata: { failure_message: message } };
      if (await this.store.updateBundle(row.uuid, change, { states: ['uploading'] })) failed = true;
    }
    return failed;
  }

  /** Stores an uploaded dataset's contents; any failure leaves the bundle `failed` with the reason. */
  async upload(user: User, uuid: string, body: Readable, unpack: boolean, fileName: string): Promise<Bundle> {
    return (await this.prepareUpload(user, uuid, unpack, fileName))(body);
  }

  /**
   * Checks that `user` may upload to `uuid` now, before any byte is read; the function it returns
   * stores a body there (a framed upload switches protocols in between, so refusals stay ordinary).
   */
  async prepareUpload(user: User, uuid: string, unpack: boolean, fileName: string): Promise<(body: Readable) => Promise<Bundle>> {
    const row = await this.bundles.getRowFor(user, uuid, 'all', 'upload to');
    if (row.bundle_type !== 'dataset' || row.state !== 'uploading') {
      throw new ApiError('conflict', `Bundle ${uuid} is ${row.state}; contents can only be uploaded to a new dataset.`);
    }
    return async (body) => {
      this.uploadsInProgress.add(uuid);
      try {
        const stored = await this.blobs.store(uuid, body, { unpack, fileName, maxBytes: this.limits.maxUploadBytes });
        await this.store.updateBundle(
          uuid,
          { state: 'ready', is_dir: stored.is_dir, last_updated: this.clock.now(), metadata: { data_size: stored.data_size } },
          { states: ['uploading'] },
        );
      } catch (error) {
        const message = error instanceof ApiError ? error.message : describeUnexpected(error);
        await this.store.updateBundle(
          uuid,
          { state: 'failed', last_updated: this.clock.now(), metadata: { failure_message: `Upload failed: ${message}` } },
          { states: ['uploading'] },
        );
        throw error instanceof ApiError ? error : new ApiError('internal', `Upload failed: ${message}`, { cause: error });
      } finally {
        this.uploadsInProgress.delete(uuid);
      }
      return this.bundles.get(user, uuid);
    };
  }

  /** `reader`: who asks, checked on every bundle the path passes through; null when already authorised. */
  async info(reader: Caller | null, uuid: string, subpath: string): Promise<TargetInfo> {
    const target = await this.locate(reader, uuid, subpath);
    return this.blobs.info(target.uuid, target.subpath);
  }

  /** Resolves a path for reading: follows dependency keys, requires contents, never leaves the bundle. */
  async resolveForRead(reader: Caller | null, uuid: string, subpath: string): Promise<ResolvedPath & ReadTarget> {
    const target = await this.locate(reader, uuid, subpath);
    const resolved = await this.blobs.resolve(target.uuid, target.subpath);
    return { ...resolved, ...target };
  }

  openFile(path: string): Readable {
    return this.blobs.openFile(path);
  }

  tarDirectory(path: string): Readable {
    return this.blobs.tarDirectory(path);
  }

  private async locate(reader: Caller | null, uuid: string, subpath: string): Promise<ReadTarget> {
    const target = await this.locateTarget(reader, uuid, subpath);
    if (!target.hasContents) {
      throw new ApiError('not_found', `Bundle ${target.uuid} has no contents yet (state ${target.row.state}).`);
    }
    return { uuid: target.uuid, subpath: target.subpath };
  }

  /**
   * Follows dependency keys to the bundle that holds a path, and says whether the store has that
   * bundle's contents (a running bundle's contents are still on its worker). The reader must be
   * able to read every bundle on the way: a shared run does not open its private parents.
   */
  async locateTarget(reader: Caller | null, uuid: string, subpath: string): Promise<ReadTarget & { row: BundleRow; hasContents: boolean }> {
    let current: ReadTarget = { uuid, subpath };
    for (let hop = 0; hop < MAX_DEPENDENCY_HOPS; hop += 1) {
      const row = reader ? await this.bundles.getRowFor(reader, current.uuid, 'read', 'read') : await this.bundles.getRow(current.uuid);
      const deps = row.bundle_type === 'run' ? await this.store.getDependencies([row.uuid]) : [];
      const dep = deps.find((d) => current.subpath === d.child_path || current.subpath.startsWith(`${d.child_path}/`));
      if (!dep) return { ...current, row, hasContents: await this.blobs.hasContents(current.uuid) };
      const rest = current.subpath.slice(dep.child_path.length).replace(/^\/+/, '');
      current = { uuid: dep.parent_uuid, subpath: [dep.parent_path, rest].filter(Boolean).join('/') };
    }
    throw new ApiError('bad_request', `Path '${subpath}' of bundle ${uuid} follows too many dependencies.`);
  }
}

/** An unexpected failure in words for users: a file system error names its call, its paths stay in the log. */
function describeUnexpected(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const { code, syscall } = error as NodeJS.ErrnoException;
  if (syscall !== undefined) return `the server could not store the contents (${code ?? 'error'} in ${syscall}); see the server log.`;
  return error.message;
}
