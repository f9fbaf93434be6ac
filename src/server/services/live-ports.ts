// Ports of running bundles: `cl netcat` (raw bytes in, the port's answer out) and the HTTP proxy,
// both relayed to the worker that runs the bundle, which connects to its container. Decides only
// who may reach a bundle's ports (as for `cl write`: its owner or root), whether it has ports to
// reach, and what goes to the worker; the bytes stream through.
import {
  ApiError,
  NETCAT_MAX_BYTES,
  PROXY_BODY_MAX_BYTES,
  type PortRequest,
  type User,
} from '../../protocol/index.js';
import type { BundleService } from './bundle-service.js';
import { holderOf, throwIfFailed, type RelayReply, type RunRelay } from './worker-relay.js';

/** How long the worker may wait for a port to connect and answer, beyond the relay's own wait. */
const PORT_ANSWER_WAIT_MS = 75_000;

export interface ProxiedRequest {
  method: string;
  /** Path and query inside the bundle's server, starting with '/'. */
  path: string;
  headers: Array<[string, string]>;
  body: Buffer;
}

export class LivePortsService {
  constructor(
    private readonly bundles: BundleService,
    private readonly relay: RunRelay,
  ) {}

  /** Sends `message` to the port and answers with what it sent back, streamed. */
  netcat(user: User, uuid: string, port: number, message: Buffer, signal?: AbortSignal): Promise<RelayReply> {
    if (message.length > NETCAT_MAX_BYTES) {
      throw new ApiError('too_large', `The message is ${message.length} bytes; netcat sends at most ${NETCAT_MAX_BYTES}.`);
    }
    return this.send(user, uuid, port, { kind: 'netcat', message_base64: message.toString('base64') }, signal);
  }

  /** One HTTP request to the port; the reply header carries the answer's status and headers. */
  proxy(user: User, uuid: string, port: number, request: ProxiedRequest, signal?: AbortSignal): Promise<RelayReply> {
    if (request.body.length > PROXY_BODY_MAX_BYTES) {
      throw new ApiError('too_large', `The request body is ${request.body.length} bytes; the proxy forwards at most ${PROXY_BODY_MAX_BYTES}.`);
    }
    const { method, path, headers } = request;
    return this.send(user, uuid, port, { kind: 'http', method, path, headers, body_base64: request.body.toString('base64') }, signal);
  }

  private async send(user: User, uuid: string, port: number, request: PortRequest, signal?: AbortSignal): Promise<RelayReply> {
    // A port answers whoever connects, and may change what the run does: the same right as `cl
    // write` (`all`; CodaLab asks only `read`, so a reader could drive a notebook server in a run).
    const row = await this.bundles.getRowFor(user, uuid, 'all', 'reach the ports of');
    if (row.bundle_type !== 'run') throw new ApiError('bad_request', `Bundle ${uuid} is a ${row.bundle_type} bundle; only runs have ports.`);
    const holder = row.state === 'running' ? holderOf(row) : null;
    if (holder === null) {
      const when = row.state === 'staged' || row.state === 'starting' || row.state === 'preparing' ? 'yet' : 'any more';
      throw new ApiError('conflict', `Bundle ${uuid} is ${row.state}, not running ${when}; only a running bundle has ports to reach.`);
    }
    const reply = await this.relay.request(
      holder,
      (id) => ({ type: 'port', request_id: id, uuid, assignment_id: holder.assignmentId, port, request }),
      signal,
      PORT_ANSWER_WAIT_MS,
    );
    throwIfFailed(reply);
    return reply;
  }
}
