// Live requests (reads, writes, ports of running bundles) for a worker connected to another server
// of the same database: the request is forwarded to that server, which queues it for the worker as
// its own, and the worker's reply streams back through it. Only the two servers' connection is
// added; the worker never talks to more than the server it chose.
import http from 'node:http';
import type { Clock } from '../../common/clock.js';
import { ApiError, ErrorBody, LIVE_REPLY_HEADER, LiveReplyHeader, REST } from '../../protocol/index.js';
import type { ServerRow } from '../store/cluster-store.js';
import type { Store } from '../store/store.js';
import type { HeldBy, LiveMessage, RelayReply, RunRelay, WorkerRelay } from '../services/worker-relay.js';
import { PEER_SILENT_MS } from './membership.js';

/** Carries the receiving server's secret (servers table), which only servers of the database can read. */
export const PEER_SECRET_HEADER = 'x-codalab-server-secret';
export const PEER_RELAY_PATH = `${REST}/cluster/relay`;

/** What a server forwards: the worker to reach and the message for it. */
export interface PeerRelayRequest {
  owner_id: string;
  worker_id: string;
  message: LiveMessage;
  extra_wait_ms: number;
}

export class ClusterRelay implements RunRelay {
  constructor(
    private readonly local: WorkerRelay,
    private readonly store: Store,
    private readonly clock: Clock,
    /** This server's advertised URL (null until it listens). */
    private readonly self: () => string | null,
  ) {}

  async request(worker: HeldBy, make: (requestId: string) => LiveMessage, signal?: AbortSignal, extraWaitMs = 0): Promise<RelayReply> {
    const there = (await this.store.getWorker(worker.ownerId, worker.workerId))?.server_url ?? null;
    if (there === null || there === this.self()) return this.local.request(worker, make, signal, extraWaitMs);
    const peer = await this.store.cluster.getServer(there);
    if (peer === undefined || this.clock.now() - peer.heartbeat_time > PEER_SILENT_MS) {
      throw new ApiError(
        'unavailable',
        `Worker ${worker.workerId} is connected through server ${there}, which is not running; try again once the worker has reconnected.`,
      );
    }
    // The receiving server numbers the request for its own queue.
    const message = make('forwarded');
    return forwardToPeer(peer, { owner_id: worker.ownerId, worker_id: worker.workerId, message, extra_wait_ms: extraWaitMs }, signal);
  }
}

function forwardToPeer(peer: ServerRow, forwarded: PeerRelayRequest, signal?: AbortSignal): Promise<RelayReply> {
  const body = JSON.stringify(forwarded);
  return new Promise((resolve, reject) => {
    const request = http.request(new URL(PEER_RELAY_PATH, peer.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), [PEER_SECRET_HEADER]: peer.secret },
      signal,
    });
    request.on('response', (response) => {
      if (response.statusCode === 200) {
        try {
          const header = LiveReplyHeader.parse(JSON.parse(String(response.headers[LIVE_REPLY_HEADER])));
          resolve({ header, body: response });
        } catch (error) {
          response.destroy();
          reject(new ApiError('internal', `Server ${peer.url} sent a reply without a valid ${LIVE_REPLY_HEADER}.`, { cause: error }));
        }
        return;
      }
      void errorOf(response, peer.url).then(reject);
    });
    request.on('error', (error) => {
      reject(
        signal?.aborted === true
          ? new ApiError('bad_request', 'The request was abandoned by the client.')
          : new ApiError('unavailable', `Could not reach server ${peer.url}, which the worker is connected through: ${error.message}. Try again.`, { cause: error }),
      );
    });
    request.end(body);
  });
}

/** The peer's refusal as the ApiError it described. */
async function errorOf(response: http.IncomingMessage, url: string): Promise<ApiError> {
  let text = '';
  for await (const chunk of response) text += String(chunk);
  const parsed = ErrorBody.safeParse(safeJson(text));
  if (parsed.success) return new ApiError(parsed.data.error.code, parsed.data.error.message);
  return new ApiError('unavailable', `Server ${url} answered ${response.statusCode ?? '?'} to a forwarded request; try again.`);
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** JSON that is safe in an HTTP header: characters past ASCII escaped. */
export function headerJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
