// Bundle contents on disk: `<root>/bundles/<uuid>` is one file or one directory. Uploads stream
// into `<root>/staging/`, are unpacked there, and are moved into place with a rename, so a bundle's
// contents are either the old ones, the new ones, or absent — never half-written.
import { randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, lstat, mkdir, readdir, readlink, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { ApiError, type TargetInfo } from '../../protocol/index.js';
import { archiveKindOf, unpackArchive } from './archive.js';
import { PERMISSION_BITS } from './entry-rules.js';
import { resolveInside, type ResolvedPath } from './safe-path.js';
import { COALESCED_CHUNK_BYTES, coalesceChunks } from '../../common/coalesce.js';

/**
 * Bytes per read of a file being downloaded, also in a directory's tar: node-tar would read 16 MiB
 * at a time, and each fresh buffer that large makes V8 collect garbage sooner (1.9 s of a 1 GiB
 * download's 6 s went to it).
 */
const FILE_READ_CHUNK = 1024 * 1024;

export interface StoredContents {
  is_dir: boolean;
  data_size: number;
}

export interface UploadOptions {
  /** Unpack an archive (chosen by the file name's suffix); otherwise store the bytes as one file. */
  unpack: boolean;
  fileName: string;
  maxBytes: number;
}

export class BlobStore {
  constructor(
    private readonly root: string,
    /**
     * This server's own directory under staging/ when several servers share the store: each
     * clears only its own at start, never an upload another server is receiving.
     */
    private readonly stagingName = '',
  ) {}

  private get bundlesDir(): string {
    return join(this.root, 'bundles');
  }

  private get stagingDir(): string {
    return join(this.root, 'staging', this.stagingName);
  }

  /** Where workers sharing this file system leave a finished run's files (see commitIncoming). */
  private get incomingDir(): string {
    return join(this.root, 'incoming');
  }

  incomingPath(uuid: string): string {
    return join(this.incomingDir, uuid);
  }

  /** Creates the directories and clears staging left by a crash: nothing there was ever committed. */
  async init(): Promise<void> {
    await mkdir(this.bundlesDir, { recursive: true });
    await rm(this.stagingDir, { recursive: true, force: true });
    await mkdir(this.stagingDir, { recursive: true });
    // Not cleared: a run's files may lie there across a restart, until its worker reports it.
    await mkdir(this.incomingDir, { recursive: true });
  }

  /**
   * Takes the files a worker sharing this file system left at incomingPath(uuid) as the bundle's
   * contents. Their container has exited and nobody else writes there, so the tree holds still
   * while it is made to follow the rules of an unpacked upload: special files (FIFOs, sockets,
   * devices) are removed, modes keep permission bits only, links stay links. Null when nothing is
   * there.
   */
  async commitIncoming(uuid: string, maxBytes: number): Promise<StoredContents | null> {
    const incoming = this.incomingPath(uuid);
    const stat = await lstat(incoming).catch(() => null);
    if (stat === null) return null;
    if (!stat.isDirectory()) {
      await rm(incoming, { force: true });
      throw new ApiError('bad_request', `The results of ${uuid} left on the shared file system are not a directory.`);
    }
    const size = await sanitizeTree(incoming);
    if (size > maxBytes) {
      await rm(incoming, { recursive: true, force: true });
      throw new ApiError('too_large', `Results of ${size} bytes are larger than the ${maxBytes} bytes accepted; nothing was stored.`);
    }
    return this.commit(uuid, incoming, size);
  }

  /** Removes files left in incoming for bundles that no longer wait for them. */
  async sweepIncoming(stillWaiting: (uuid: string) => Promise<boolean>): Promise<void> {
    for (const name of await readdir(this.incomingDir)) {
      if (!(await stillWaiting(name))) await rm(join(this.incomingDir, name), { recursive: true, force: true });
    }
  }

  contentsPath(uuid: string): string {
    return join(this.bundlesDir, uuid);
  }

  async hasContents(uuid: string): Promise<boolean> {
    return (await lstat(this.contentsPath(uuid)).catch(() => null)) !== null;
  }

  /** Streams an upload into staging, unpacks it when asked, and commits it as the bundle's contents. */
  async store(uuid: string, source: Readable, options: UploadOptions): Promise<StoredContents> {
    // A source that already failed (a framed upload whose connection was cut at once) would never
    // end: say why instead of waiting for it.
    if (source.destroyed) throw source.errored ?? new ApiError('bad_request', 'The upload ended before any of it arrived.');
    // Joined before the first wait, so that a failure of the source meanwhile is not missed.
    const limit = byteLimit(options.maxBytes);
    const limited = source.pipe(limit).pipe(coalesceChunks());
    source.on('error', (error) => limited.destroy(error));
    limit.on('error', (error) => limited.destroy(error));
    // The refusal reaches the caller through the unpacking pipeline, which may already have
    // settled and let go of the stream when it is emitted: it must not surface as uncaught.
    limited.on('error', () => undefined);
    const stage = await this.newStage(uuid);
    try {
      const kind = options.unpack ? archiveKindOf(options.fileName) : null;
      let content: string;
      if (kind) {
        const dir = join(stage, 'unpacked');
        await mkdir(dir);
        content = await unpackArchive(limited, kind, dir, {
          fileName: options.fileName,
          maxBytes: options.maxBytes,
        });
      } else {
        content = join(stage, 'file');
        await pipeline(limited, createWriteStream(content));
      }
      return await this.commit(uuid, content);
    } finally {
      await rm(stage, { recursive: true, force: true });
    }
  }

  /**
   * Commits contents built by `fill` in a fresh staging directory; `fill` returns the path (inside
   * it) of the file or directory to keep. Used by make bundles, assembled on the server.
   */
  async storeAssembled(uuid: string, fill: (stageDir: string) => Promise<string>): Promise<StoredContents> {
    const stage = await this.newStage(uuid);
    try {
      return await this.commit(uuid, await fill(stage));
    } finally {
      await rm(stage, { recursive: true, force: true });
    }
  }

  async remove(uuid: string): Promise<void> {
    await rm(this.contentsPath(uuid), { recursive: true, force: true });
  }

  async resolve(uuid: string, subpath: string): Promise<ResolvedPath> {
    return resolveInside(this.contentsPath(uuid), subpath, uuid);
  }

  /** Describes a target and, for a directory, its entries one level deep, sorted by name. */
  async info(uuid: string, subpath: string, hidden: ReadonlySet<string> = new Set()): Promise<TargetInfo> {
    const target = await this.resolve(uuid, subpath);
    const name = subpath.split('/').filter(Boolean).pop() ?? '';
    const info = await describe(target.path, name);
    if (target.kind === 'directory') {
      const names = (await readdir(target.path)).filter((n) => !hidden.has(n)).sort();
      info.contents = await Promise.all(names.map((n) => describe(join(target.path, n), n)));
    }
    return info;
  }

  openFile(path: string, range?: { start: number; end: number }): Readable {
    // Large reads: a 100 MB download is a few hundred writes to the socket, not a few thousand.
    return createReadStream(path, { ...range, highWaterMark: FILE_READ_CHUNK });
  }

  /** A plain tar stream of a directory's contents (paths relative to it). */
  tarDirectory(path: string): Readable {
    return tar.c({ cwd: path, portable: true, follow: false, maxReadSize: FILE_READ_CHUNK }, ['.']) as unknown as Readable;
  }

  private async newStage(uuid: string): Promise<string> {
    const stage = join(this.stagingDir, `${uuid}-${randomBytes(4).toString('hex')}`);
    await mkdir(stage);
    return stage;
  }

  /** `dataSize`: the contents' diskUsage when the caller already measured it. */
  private async commit(uuid: string, content: string, dataSize?: number): Promise<StoredContents> {
    const target = this.contentsPath(uuid);
    const old = `${content}.old`;
    const hadOld = await rename(target, old).then(() => true, () => false);
    await rename(content, target);
    if (hadOld) await rm(old, { recursive: true, force: true });
    const stat = await lstat(target);
    return { is_dir: stat.isDirectory(), data_size: dataSize ?? (await diskUsage(target)) };
  }
}

async function describe(path: string, name: string): Promise<TargetInfo> {
  const stat = await lstat(path);
  if (stat.isSymbolicLink()) {
    return { name, type: 'link', size: stat.size, perm: stat.mode & 0o777, link: await readlink(path) };
  }
  return { name, type: stat.isDirectory() ? 'directory' : 'file', size: stat.size, perm: stat.mode & 0o777 };
}

/**
 * See commitIncoming: removes special files and strips modes to permission bits, never following
 * a link. Returns what is left as diskUsage counts it, so the tree is walked once.
 */
async function sanitizeTree(dir: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) {
      bytes += await sanitizeTree(full);
      continue;
    }
    if (!entry.isFile() && !entry.isSymbolicLink()) {
      await rm(full, { force: true });
      continue;
    }
    const stat = await lstat(full);
    bytes += stat.size;
    if (entry.isFile() && (stat.mode & ~PERMISSION_BITS & 0o7777) !== 0) await chmod(full, stat.mode & PERMISSION_BITS);
  }
  return bytes;
}

/** Bytes of a file, or of every file below a directory (links count as their own size). */
export async function diskUsage(path: string): Promise<number> {
  const stat = await lstat(path);
  if (!stat.isDirectory()) return stat.size;
  let total = 0;
  for (const entry of await readdir(path)) total += await diskUsage(join(path, entry));
  return total;
}

function byteLimit(maxBytes: number): Transform {
  let seen = 0;
  return new Transform({
    // Room for a few socket reads: with the default 16 KiB every 64 KiB read would pause the socket.
    highWaterMark: COALESCED_CHUNK_BYTES,
    transform(chunk: Buffer, _encoding, callback) {
      seen += chunk.length;
      if (seen > maxBytes) {
        callback(new ApiError('too_large', `Upload larger than the server's limit of ${maxBytes} bytes.`));
        return;
      }
      callback(null, chunk);
    },
  });
}
