// Serves the server's relayed requests about a run this worker holds: listings, file bytes and
// directory tars, followed stdout/stderr, and small writes. Every path is found through run-paths,
// and every file is read or written through the handle that was opened and checked, never by
// reopening a path the run could have changed meanwhile. Every answer is one reply (a small JSON
// header, then a streamed body). Owns no run state.
import { constants } from 'node:fs';
import type { FileHandle } from 'node:fs/promises';
import { Readable } from 'node:stream';
import type { FileSlice } from '../../common/file-slice.js';
import { readHeadLines, readTailLines } from '../../common/line-reader.js';
import { encodeFrame, type OutputStream } from '../../common/output-frames.js';
import { ApiError, type LiveReplyHeader, type ReadArgs, type ReadMessage, type TargetInfo, type WriteMessage } from '../../protocol/index.js';
import { errorMessage } from '../../common/error-message.js';
import { sleep } from '../../common/clock.js';
import { DirHandle, withDir } from '../fs/dir-handle.js';
import { packTree } from '../fs/tree-tar.js';
import {
  findMount,
  locateRunPath,
  openRunDirectory,
  pathError,
  RunPathError,
  splitRunPath,
  type LocatedEntry,
  type RunFiles,
} from './run-paths.js';

const FOLLOW_TICK_MS = 100;
const FOLLOW_CHUNK = 256 * 1024;
const KEEPALIVE_MS = 15_000;

/** What a held run shows to reads. */
export interface LiveRun {
  files: RunFiles;
  /** True while the container may still write (preparing or running). */
  isLive(): boolean;
  /** Owner to give files written into the run, so the container can change them. */
  chownTo: { uid: number; gid: number } | null;
  /** Where this host reaches the running container; null before it runs, after it ran, or without a network. */
  containerAddress(): Promise<string | null>;
}

export interface Reply {
  header: LiveReplyHeader;
  /** A stream, or a slice of a file (sent with reused buffers; see file-slice). */
  body: Readable | FileSlice;
}

export type ReplySender = (requestId: string, header: LiveReplyHeader, body: Readable | FileSlice) => Promise<unknown>;

/** Answers one request; `run` is null when this worker does not hold the bundle (any more). */
export async function serveLiveRequest(run: LiveRun | null, message: ReadMessage | WriteMessage, send: ReplySender, signal: AbortSignal): Promise<void> {
  let reply: Reply;
  try {
    if (run === null) throw new ApiError('conflict', `Bundle ${message.uuid} is no longer running on this worker.`);
    reply = message.type === 'write' ? await writeFile(run, message) : await read(run, message.path, message.args, signal);
  } catch (error) {
    reply = errorReply(error);
  }
  await send(message.request_id, reply.header, reply.body);
}

async function read(run: LiveRun, subpath: string, args: ReadArgs, signal: AbortSignal): Promise<Reply> {
  if (args.type === 'follow') {
    return { header: { ok: true }, body: Readable.from(followOutput(run, { stdout: args.stdout, stderr: args.stderr }, args.max_seconds * 1000, signal)) };
  }
  const entry = await locateRunPath(run.files, subpath);
  try {
    if (args.type === 'info') return jsonReply(await describeTarget(entry, lastName(subpath)));
    if (entry.kind === 'link') throw new RunPathError('bad_request', `'${subpath}' is a symbolic link; read its target instead.`);
    if (entry.kind === 'directory') {
      const dir = await entry.parent.openDir(entry.name).catch((error: unknown) => {
        throw pathError(error, subpath);
      });
      const hidden = new Set(entry.hidden);
      return { header: { ok: true, target_type: 'directory' }, body: packTree(dir, { exclude: (relative) => isHidden(relative, hidden) }) };
    }
    const handle = await openEntryFile(entry, subpath);
    if (args.head !== undefined || args.tail !== undefined) {
      try {
        const bytes = args.head !== undefined ? await readHeadLines(handle, args.head) : await readTailLines(handle, args.tail ?? 0);
        return { header: { ok: true, target_type: 'file' }, body: Readable.from([bytes]) };
      } finally {
        await handle.close();
      }
    }
    return await fileSliceReply(handle, args);
  } finally {
    await entry.parent.close();
  }
}

async function openEntryFile(entry: LocatedEntry, subpath: string): Promise<FileHandle> {
  return entry.parent.openFile(entry.name, constants.O_RDONLY).catch((error: unknown) => {
    throw pathError(error, subpath);
  });
}

/** The asked-for range of an open file; the reply's sender closes the handle. */
async function fileSliceReply(handle: FileHandle, args: Extract<ReadArgs, { type: 'blob' }>): Promise<Reply> {
  const { size } = await handle.stat();
  const start = Math.min(args.offset ?? 0, size);
  const end = args.length !== undefined ? Math.min(size, start + args.length) : size;
  // Exactly `end - start` bytes, even while the file grows: the header promised that many.
  if (end <= start) {
    await handle.close();
    return { header: { ok: true, target_type: 'file', size: 0 }, body: Readable.from([]) };
  }
  return { header: { ok: true, target_type: 'file', size: end - start }, body: { handle, start, end } };
}

/** stdout and stderr as output frames from the offsets, until the container is done (then flushed) or time is up. */
async function* followOutput(run: LiveRun, start: Record<OutputStream, number>, maxMs: number, signal: AbortSignal): AsyncGenerator<Buffer> {
  const offsets = { ...start };
  const deadline = Date.now() + maxMs;
  let lastSent = Date.now();
  const runDir = await DirHandle.open(run.files.runDir);
  try {
    while (!signal.aborted) {
      // Sampled before reading, so the pass after the container ended reads everything it wrote.
      const live = run.isLive();
      for (const stream of ['stdout', 'stderr'] as const) {
        for (;;) {
          const chunk = await readOutputChunk(runDir, stream, offsets[stream]);
          if (chunk.length === 0) break;
          offsets[stream] += chunk.length;
          lastSent = Date.now();
          yield encodeFrame(stream, chunk);
        }
      }
      if (!live || Date.now() >= deadline) return;
      if (Date.now() - lastSent >= KEEPALIVE_MS) {
        lastSent = Date.now();
        yield encodeFrame('keepalive');
      }
      await sleep(FOLLOW_TICK_MS, signal);
    }
  } finally {
    await runDir.close();
  }
}

async function readOutputChunk(runDir: DirHandle, stream: OutputStream, offset: number): Promise<Buffer> {
  const handle = await runDir.openFile(stream, constants.O_RDONLY).catch(() => null);
  if (handle === null) return Buffer.alloc(0);
  try {
    const buffer = Buffer.alloc(FOLLOW_CHUNK);
    const { bytesRead } = await handle.read(buffer, 0, FOLLOW_CHUNK, offset);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function writeFile(run: LiveRun, message: WriteMessage): Promise<Reply> {
  if (!run.isLive()) throw new ApiError('conflict', `Bundle ${message.uuid} is no longer running; nothing was written.`);
  const parts = splitRunPath(message.path);
  const name = parts.pop();
  if (name === undefined) throw new RunPathError('bad_request', 'Name a file inside the bundle to write.');
  const relative = [...parts, name].join('/');
  const mount = findMount(run.files, relative) ?? run.files.mounts.find((m) => m.path.startsWith(`${relative}/`));
  if (mount) throw new RunPathError('bad_request', `'${relative}' is dependency '${mount.path}' (or inside it), which is read-only.`);
  const { dir } = await openRunDirectory(run.files, parts.join('/'));
  const handle = await dir
    .openFile(name, constants.O_WRONLY | constants.O_CREAT, 0o644)
    .catch((error: unknown) => {
      throw pathError(error, relative);
    })
    .finally(() => dir.close());
  try {
    // Truncated only now that the handle is known to be a regular file inside the run.
    await handle.truncate(0);
    await handle.writeFile(message.string);
    if (run.chownTo) await handle.chown(run.chownTo.uid, run.chownTo.gid);
  } finally {
    await handle.close();
  }
  return jsonReply({ written: Buffer.byteLength(message.string) });
}

/** A target and, for a directory, its entries one level deep (sorted, mount points left out). */
async function describeTarget(entry: LocatedEntry, name: string): Promise<TargetInfo> {
  const info = await describeEntry(entry.parent, entry.name, name);
  if (info.type !== 'directory') return info;
  const skip = new Set(entry.hidden.filter((h) => !h.includes('/')));
  info.contents = await withDir(entry.parent.openDir(entry.name), async (dir) => {
    const names = (await dir.list()).filter((n) => !skip.has(n));
    const described = await Promise.all(names.map((n) => describeEntry(dir, n, n).catch(() => null)));
    return described.filter((e): e is TargetInfo => e !== null); // an entry the run deleted meanwhile
  }).catch((error: unknown) => {
    throw pathError(error, name);
  });
  return info;
}

async function describeEntry(dir: DirHandle, entryName: string, name: string): Promise<TargetInfo> {
  const stat = await dir.lstat(entryName);
  if (stat === null) throw new RunPathError('not_found', `'${name}' doesn't exist in the bundle.`);
  if (stat.isSymbolicLink()) return { name, type: 'link', size: stat.size, perm: stat.mode & 0o777, link: await dir.readlink(entryName) };
  return { name, type: stat.isDirectory() ? 'directory' : 'file', size: stat.size, perm: stat.mode & 0o777 };
}

function isHidden(relative: string, hidden: ReadonlySet<string>): boolean {
  for (const h of hidden) if (relative === h || relative.startsWith(`${h}/`)) return true;
  return false;
}

function lastName(subpath: string): string {
  return subpath.split('/').filter(Boolean).pop() ?? '';
}

function jsonReply(value: unknown): Reply {
  return { header: { ok: true }, body: Readable.from([Buffer.from(JSON.stringify(value))]) };
}

export function errorReply(error: unknown): Reply {
  const code = error instanceof ApiError || error instanceof RunPathError ? error.code : 'internal';
  return { header: { ok: false, error: { code, message: errorMessage(error) } }, body: Readable.from([]) };
}
