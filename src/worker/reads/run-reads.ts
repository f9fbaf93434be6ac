// Serves the server's relayed requests about a run this worker holds: listings, file bytes and
// directory tars, followed stdout/stderr, and small writes. Every path goes through run-paths;
// every answer is one reply (a small JSON header, then a streamed body). Owns no run state.
import { constants } from 'node:fs';
import { chown, lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import * as tar from 'tar';
import type { FileSlice } from '../../common/file-slice.js';
import { readHeadLines, readTailLines } from '../../common/line-reader.js';
import { encodeFrame, type OutputStream } from '../../common/output-frames.js';
import { ApiError, type LiveReplyHeader, type ReadArgs, type ReadMessage, type TargetInfo, type WriteMessage } from '../../protocol/index.js';
import { errorMessage, sleep } from '../clock.js';
import { findMount, openInside, resolveRunPath, RunPathError, splitRunPath, type RunFiles } from './run-paths.js';

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
  const target = await resolveRunPath(run.files, subpath);
  if (args.type === 'info') return jsonReply(await describeTarget(target.path, lastName(subpath), target.hidden));
  if (target.kind === 'link') throw new RunPathError('bad_request', `'${subpath}' is a symbolic link; read its target instead.`);
  if (target.kind === 'directory') {
    const hidden = new Set(target.hidden);
    const stream = tar.c(
      { cwd: target.path, portable: true, follow: false, filter: (entry: string) => !isHidden(entry, hidden) },
      ['.'],
    );
    return { header: { ok: true, target_type: 'directory' }, body: Readable.from(stream) };
  }
  if (args.head !== undefined || args.tail !== undefined) {
    const handle = await openInside(target.root, target.path, constants.O_RDONLY);
    await handle.close();
    const bytes = args.head !== undefined ? await readHeadLines(target.path, args.head) : await readTailLines(target.path, args.tail ?? 0);
    return { header: { ok: true, target_type: 'file' }, body: Readable.from([bytes]) };
  }
  const handle = await openInside(target.root, target.path, constants.O_RDONLY);
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
  while (!signal.aborted) {
    // Sampled before reading, so the pass after the container ended reads everything it wrote.
    const live = run.isLive();
    for (const stream of ['stdout', 'stderr'] as const) {
      for (;;) {
        const chunk = await readOutputChunk(run.files, stream, offsets[stream]);
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
}

async function readOutputChunk(files: RunFiles, stream: OutputStream, offset: number): Promise<Buffer> {
  const handle = await openInside(files.runDir, path.join(files.runDir, stream), constants.O_RDONLY).catch(() => null);
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
  if (parts.length === 0) throw new RunPathError('bad_request', 'Name a file inside the bundle to write.');
  const relative = parts.join('/');
  const mount = findMount(run.files, relative) ?? run.files.mounts.find((m) => m.path.startsWith(`${relative}/`));
  if (mount) throw new RunPathError('bad_request', `'${relative}' is dependency '${mount.path}' (or inside it), which is read-only.`);
  const parent = await resolveRunPath(run.files, parts.slice(0, -1).join('/'));
  if (parent.kind !== 'directory') throw new RunPathError('not_found', `Directory '${parts.slice(0, -1).join('/')}' doesn't exist in the bundle.`);
  const file = path.join(parent.path, parts[parts.length - 1] as string);
  const handle = await openInside(run.files.runDir, file, constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC, 0o644).catch((error: unknown) => {
    if ((error as { code?: string }).code === 'EISDIR') throw new RunPathError('bad_request', `'${relative}' is a directory.`);
    throw error;
  });
  try {
    await handle.writeFile(message.string);
    if (run.chownTo) await handle.chown(run.chownTo.uid, run.chownTo.gid).catch(() => chown(file, run.chownTo?.uid ?? 0, run.chownTo?.gid ?? 0));
  } finally {
    await handle.close();
  }
  return jsonReply({ written: Buffer.byteLength(message.string) });
}

/** A target and, for a directory, its entries one level deep (sorted, mount points left out). */
async function describeTarget(file: string, name: string, hidden: readonly string[]): Promise<TargetInfo> {
  const info = await describeEntry(file, name);
  if (info.type === 'directory') {
    const skip = new Set(hidden.filter((h) => !h.includes('/')));
    const names = (await readdir(file)).filter((n) => !skip.has(n)).sort();
    info.contents = (await Promise.all(names.map((n) => describeEntry(path.join(file, n), n).catch(() => null)))).filter(
      (entry): entry is TargetInfo => entry !== null, // an entry the run deleted meanwhile
    );
  }
  return info;
}

async function describeEntry(file: string, name: string): Promise<TargetInfo> {
  const stat = await lstat(file);
  if (stat.isSymbolicLink()) return { name, type: 'link', size: stat.size, perm: stat.mode & 0o777, link: await readlink(file) };
  return { name, type: stat.isDirectory() ? 'directory' : 'file', size: stat.size, perm: stat.mode & 0o777 };
}

function isHidden(entry: string, hidden: ReadonlySet<string>): boolean {
  const relative = entry.replace(/^\.\/?/, '');
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
