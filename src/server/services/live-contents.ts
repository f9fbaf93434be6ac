// Contents of bundles that a worker is running: listings, downloads, followed output and writes,
// relayed to the worker that holds the run, with the same semantics as reads of a finished
// bundle from the store. Decides only where a read goes; the bytes stream through untouched.
// A read that races the end of its run (the worker dropped it just before) is served by the store.
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { encodeFrame, type OutputStream } from '../../common/output-frames.js';
import {
  ApiError,
  TargetInfo,
  WRITE_MAX_BYTES,
  type BundleState,
  type ReadArgs,
  type User,
  type WriteAction,
} from '../../protocol/index.js';
import type { Clock } from '../../common/clock.js';
import type { Store } from '../store/store.js';
import type { Caller } from '../permissions/access-control.js';
import type { BundleService } from './bundle-service.js';
import type { ContentsService } from './contents-service.js';
import { holderOf, throwIfFailed, type HeldAssignment, type RelayReply, type RunRelay } from './worker-relay.js';

/** States in which the run's files live in the worker's run dir. */
const LIVE_STATES: readonly BundleState[] = ['preparing', 'running', 'finalizing'];
const MAX_INFO_BYTES = 16 * 1024 * 1024;
/** A follow ends after this long and the client reconnects, so no connection outlives HTTP timeouts. */
const FOLLOW_MAX_SECONDS = 60;
/**
 * A worker that no longer holds a run answers `conflict`; its contents are then in the store or
 * about to be (the worker drops a run once the server accepted its end). Polled this often, this
 * many times, before the conflict is passed on.
 */
const ENDED_RUN_POLL_MS = 100;
const ENDED_RUN_POLLS = 50;

export interface LiveTarget extends HeldAssignment {
  uuid: string;
  subpath: string;
}

export type FollowSource = 'live' | 'store' | 'pending';

export class LiveContentsService {
  constructor(
    private readonly store: Store,
    private readonly contents: ContentsService,
    private readonly bundles: BundleService,
    private readonly relay: RunRelay,
    private readonly clock: Clock,
  ) {}

  /** Where a path of a bundle lives when a worker has it; null when the store serves it. */
  async liveTarget(reader: Caller | null, uuid: string, subpath: string): Promise<LiveTarget | null> {
    const target = await this.contents.locateTarget(reader, uuid, subpath);
    const { row } = target;
    if (target.hasContents || !LIVE_STATES.includes(row.state)) return null;
    const holder = holderOf(row);
    return holder && { ...holder, uuid: target.uuid, subpath: target.subpath };
  }

  /** The listing of a path, or null when the run ended meanwhile and the store has it now. */
  async info(target: LiveTarget, signal?: AbortSignal): Promise<TargetInfo | null> {
    const reply = await this.read(target, { type: 'info' }, signal);
    if (reply === null) return null;
    const text = await readAll(reply.body, MAX_INFO_BYTES);
    const parsed = TargetInfo.safeParse(JSON.parse(text));
    if (!parsed.success) throw new ApiError('internal', `Worker ${target.workerId} sent a malformed listing.`);
    return parsed.data;
  }

  /** A file's bytes or a directory's tar, as the worker streams it; null when the store has it now. */
  blob(target: LiveTarget, args: Extract<ReadArgs, { type: 'blob' }>, signal?: AbortSignal): Promise<RelayReply | null> {
    return this.read(target, args, signal);
  }

  /** stdout and stderr from the given offsets, as output frames: live from the worker, or from the store. */
  async follow(reader: Caller, uuid: string, offsets: Record<OutputStream, number>, signal?: AbortSignal): Promise<{ source: FollowSource; body: Readable }> {
    const row = await this.bundles.getRowFor(reader, uuid, 'read', 'read');
    if (row.state === 'preparing' || row.state === 'running') {
      const target = await this.liveTarget(reader, uuid, '');
      if (target) {
        const reply = await this.read(target, { type: 'follow', ...offsets, max_seconds: FOLLOW_MAX_SECONDS }, signal);
        if (reply !== null) return { source: 'live', body: reply.body };
      }
    }
    if (await this.contents.locateTarget(reader, uuid, '').then((t) => t.hasContents)) {
      return { source: 'store', body: Readable.from(this.storedOutput(uuid, offsets)) };
    }
    return { source: 'pending', body: Readable.from([]) };
  }

  /** `cl write`: a small file into a running bundle, never onto a dependency or outside it. */
  async write(user: User, action: WriteAction, signal?: AbortSignal): Promise<void> {
    const row = await this.bundles.getRowFor(user, action.uuid, 'all', 'write to');
    const holder = row.state === 'running' ? holderOf(row) : null;
    if (holder === null) throw new ApiError('conflict', `Bundle ${row.uuid} is ${row.state}; only a running bundle can be written to.`);
    const path = checkWritePath(action.subpath);
    if (Buffer.byteLength(action.string) > WRITE_MAX_BYTES) {
      throw new ApiError('too_large', `The string is ${Buffer.byteLength(action.string)} bytes; cl write takes at most ${WRITE_MAX_BYTES}.`);
    }
    const deps = await this.store.getDependencies([row.uuid]);
    const dep = deps.find((d) => path === d.child_path || path.startsWith(`${d.child_path}/`) || d.child_path.startsWith(`${path}/`));
    if (dep) throw new ApiError('bad_request', `'${path}' is dependency '${dep.child_path}' (or inside it), which is read-only.`);
    const reply = await this.relay.request(
      holder,
      (id) => ({ type: 'write', request_id: id, uuid: row.uuid, assignment_id: holder.assignmentId, path, string: action.string }),
      signal,
    );
    reply.body.resume();
    throwIfFailed(reply);
    const actions = Array.isArray(row.metadata.actions) ? row.metadata.actions : [];
    await this.store.updateBundle(row.uuid, { last_updated: this.clock.now(), metadata: { actions: [...actions, `write\t${path}\t${action.string}`] } });
  }

  /** The worker's reply to a read, or null when the run ended before the worker got the read. */
  private async read(target: LiveTarget, args: ReadArgs, signal?: AbortSignal): Promise<RelayReply | null> {
    const reply = await this.relay.request(
      target,
      (id) => ({ type: 'read', request_id: id, uuid: target.uuid, assignment_id: target.assignmentId, path: target.subpath, args }),
      signal,
    );
    try {
      throwIfFailed(reply);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'conflict' && (await this.waitForStoredContents(target, signal))) return null;
      throw error;
    }
    return reply;
  }

  /** Waits (briefly) for an ended run's contents to reach the store; false when they do not. */
  private async waitForStoredContents(target: LiveTarget, signal?: AbortSignal): Promise<boolean> {
    for (let poll = 0; poll < ENDED_RUN_POLLS; poll += 1) {
      const located = await this.contents.locateTarget(null, target.uuid, target.subpath);
      if (located.hasContents) return true;
      // Failed or lost without contents: the store will not get any, so the conflict stands.
      if (!LIVE_STATES.includes(located.row.state)) return false;
      await delay(ENDED_RUN_POLL_MS, undefined, signal ? { signal } : {});
    }
    return false;
  }

  private async *storedOutput(uuid: string, offsets: Record<OutputStream, number>): AsyncGenerator<Buffer> {
    for (const stream of ['stdout', 'stderr'] as const) {
      const file = await this.contents.resolveForRead(null, uuid, stream).catch(() => null);
      if (!file || file.kind !== 'file' || file.size <= offsets[stream]) continue;
      for await (const chunk of createReadStream(file.path, { start: offsets[stream] })) yield encodeFrame(stream, chunk as Buffer);
    }
  }
}

function checkWritePath(subpath: string): string {
  if (subpath.startsWith('/')) throw new ApiError('bad_request', `Path '${subpath}' must be relative to the bundle.`);
  const parts = subpath.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new ApiError('bad_request', `Path '${subpath}' may not contain '..'.`);
  if (parts.length === 0) throw new ApiError('bad_request', 'Name a file inside the bundle to write.');
  return parts.join('/');
}

async function readAll(body: Readable, maxBytes: number): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += (chunk as Buffer).length;
    if (total > maxBytes) throw new ApiError('too_large', `Reply larger than ${maxBytes} bytes.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}
