// Relays requests about a running bundle (reads, follows, writes) to the worker that holds it,
// over the connections the worker opens: a request waits in memory in the worker's queue, its
// long poll is woken, and the worker's reply (a PUT naming the request id) is handed to the
// waiting HTTP handler, which streams it on. Nothing here touches the database or buffers a body.
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { ApiError, type LiveReplyHeader, type PortMessage, type ReadMessage, type WorkerMessage, type WriteMessage } from '../../protocol/index.js';
import { WorkerHub } from './worker-hub.js';

export interface RelayReply {
  header: LiveReplyHeader;
  body: Readable;
}

export interface HeldBy {
  ownerId: string;
  workerId: string;
}

/** A worker holding a run, and the assignment it holds it under. */
export interface HeldAssignment extends HeldBy {
  assignmentId: string;
}

/** Who holds a bundle's run, read off its row; null when no worker does. */
export function holderOf(row: { worker_owner_id: string | null; worker_id: string | null; assignment_id: string | null }): HeldAssignment | null {
  if (!row.worker_owner_id || !row.worker_id || !row.assignment_id) return null;
  return { ownerId: row.worker_owner_id, workerId: row.worker_id, assignmentId: row.assignment_id };
}

/** A request about a running bundle, for the worker that holds it. */
export type LiveMessage = ReadMessage | WriteMessage | PortMessage;

/** Sends a live request to the worker holding a run, wherever the worker is connected. */
export interface RunRelay {
  request(worker: HeldBy, make: (requestId: string) => LiveMessage, signal?: AbortSignal, extraWaitMs?: number): Promise<RelayReply>;
}

interface Pending {
  key: string;
  uuid: string;
  resolve(reply: RelayReply): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class WorkerRelay implements RunRelay {
  private readonly queues = new Map<string, LiveMessage[]>();
  private readonly pending = new Map<string, Pending>();

  constructor(
    private readonly hub: WorkerHub,
    /** How long a worker may take to start answering. */
    private readonly replyTimeoutMs = 15_000,
  ) {}

  /**
   * Queues the message for the worker and resolves with the start of its reply. `extraWaitMs`
   * lengthens the wait for requests whose answer the worker must itself wait for (a port's).
   */
  request(worker: HeldBy, make: (requestId: string) => LiveMessage, signal?: AbortSignal, extraWaitMs = 0): Promise<RelayReply> {
    const waitMs = this.replyTimeoutMs + extraWaitMs;
    const key = WorkerHub.key(worker.ownerId, worker.workerId);
    const message = make(randomBytes(12).toString('hex'));
    const id = message.request_id;
    return new Promise<RelayReply>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(entry.timer);
        this.pending.delete(id);
        this.unqueue(key, id);
        signal?.removeEventListener('abort', onAbort);
      };
      const onAbort = (): void => {
        finish();
        reject(new ApiError('bad_request', 'The request was abandoned by the client.'));
      };
      const entry: Pending = {
        key,
        uuid: message.uuid,
        resolve: (reply) => {
          finish();
          resolve(reply);
        },
        reject: (error) => {
          finish();
          reject(error);
        },
        timer: setTimeout(() => {
          entry.reject(
            new ApiError(
              'unavailable',
              `Worker ${worker.workerId}, which runs bundle ${message.uuid}, did not answer within ${waitMs / 1000} s; ` +
                'it may be offline or overloaded. Try again, or read the bundle once it is finished.',
            ),
          );
        }, waitMs),
      };
      this.pending.set(id, entry);
      if (signal?.aborted) return onAbort();
      signal?.addEventListener('abort', onAbort, { once: true });
      const queue = this.queues.get(key) ?? [];
      queue.push(message);
      this.queues.set(key, queue);
      this.hub.notify(key);
    });
  }

  /** Hands out (once) the requests queued for a worker. */
  take(ownerId: string, workerId: string): WorkerMessage[] {
    const key = WorkerHub.key(ownerId, workerId);
    const queue = this.queues.get(key) ?? [];
    this.queues.delete(key);
    return queue;
  }

  /**
   * A worker's reply: gives it to the waiting request and resolves once the body has been read
   * (or abandoned). Throws not_found when no request waits (it timed out or the client left).
   */
  async deliver(worker: HeldBy, requestId: string, header: LiveReplyHeader, body: Readable): Promise<void> {
    const entry = this.pending.get(requestId);
    if (!entry) throw new ApiError('not_found', `No request ${requestId} is waiting for a reply; it timed out or its client left.`);
    if (entry.key !== WorkerHub.key(worker.ownerId, worker.workerId)) {
      throw new ApiError('forbidden', `Request ${requestId} was not sent to worker ${worker.workerId}.`);
    }
    const consumed = new Promise<void>((resolve) => {
      body.once('end', resolve);
      body.once('close', resolve);
      body.once('error', () => resolve());
    });
    entry.resolve({ header, body });
    await consumed;
  }

  private unqueue(key: string, requestId: string): void {
    const queue = this.queues.get(key);
    if (!queue) return;
    const rest = queue.filter((m) => m.request_id !== requestId);
    if (rest.length > 0) this.queues.set(key, rest);
    else this.queues.delete(key);
  }
}

/** Turns a worker's error reply into the ApiError it carries (its body is drained). */
export function throwIfFailed(reply: RelayReply): void {
  if (reply.header.ok) return;
  reply.body.resume();
  const error = reply.header.error ?? { code: 'internal' as const, message: 'The worker could not serve the request.' };
  throw new ApiError(error.code, error.message);
}
