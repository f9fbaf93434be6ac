// Talks to a port of a run's container for the server (`cl netcat`, the HTTP proxy): connects
// from this host to the container's address, sends the request, and streams the answer back as
// one reply. Nothing here keeps state between requests; the address comes from the run.
import http from 'node:http';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { endToEndHeaders, groupHeaders, HOP_BY_HOP_HEADERS } from '../../common/http-headers.js';
import { ApiError, type PortMessage, type PortRequest } from '../../protocol/index.js';
import { errorReply, type LiveRun, type Reply, type ReplySender } from './run-reads.js';

const CONNECT_TIMEOUT_MS = 10_000;
/** A port silent this long has said all it will: a netcat answer ends there, an HTTP one fails. */
export const PORT_IDLE_MS = 60_000;


export interface PortTimeouts {
  connectMs: number;
  idleMs: number;
}

/** Request headers the proxy sets itself rather than forwarding. */
const REPLACED_HEADERS: ReadonlySet<string> = new Set([...HOP_BY_HOP_HEADERS, 'content-length', 'host']);

const DEFAULT_TIMEOUTS: PortTimeouts = { connectMs: CONNECT_TIMEOUT_MS, idleMs: PORT_IDLE_MS };

/** Answers one port request; `run` is null when this worker does not hold the bundle (any more). */
export async function servePortRequest(
  run: LiveRun | null,
  message: PortMessage,
  send: ReplySender,
  signal: AbortSignal,
  timeouts: PortTimeouts = DEFAULT_TIMEOUTS,
): Promise<void> {
  let reply: Reply;
  try {
    if (run === null) throw new ApiError('conflict', `Bundle ${message.uuid} is no longer running on this worker.`);
    const host = await run.containerAddress();
    if (host === null) {
      throw new ApiError('conflict', `Bundle ${message.uuid} has no address to connect to: it is not running, or it runs without a network.`);
    }
    const where: PortAddress = { host, port: message.port, uuid: message.uuid };
    reply = await talk(where, message.request, signal, timeouts);
  } catch (error) {
    reply = errorReply(error);
  }
  await send(message.request_id, reply.header, reply.body);
}

interface PortAddress {
  host: string;
  port: number;
  uuid: string;
}

function talk(where: PortAddress, request: PortRequest, signal: AbortSignal, timeouts: PortTimeouts): Promise<Reply> {
  return request.kind === 'netcat'
    ? netcat(where, Buffer.from(request.message_base64, 'base64'), signal, timeouts)
    : proxyHttp(where, request, signal, timeouts);
}

/**
 * Sends the message, then closes the sending side (so a server that reads to the end answers),
 * and streams back what the port sends until it closes or falls silent for `idleMs`.
 */
async function netcat(where: PortAddress, message: Buffer, signal: AbortSignal, timeouts: PortTimeouts): Promise<Reply> {
  const socket = await connect(where, signal, timeouts.connectMs);
  const body = new PassThrough();
  // A reset or a silent port ends the answer with what came so far, as netcat does.
  const stop = (): void => {
    socket.unpipe(body);
    socket.destroy();
    body.end();
  };
  socket.setTimeout(timeouts.idleMs, stop);
  socket.on('error', stop);
  body.on('close', () => socket.destroy());
  socket.pipe(body);
  socket.end(message);
  return { header: { ok: true }, body };
}

function connect(where: PortAddress, signal: AbortSignal, timeoutMs: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: where.host, port: where.port, signal });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new ApiError('unavailable', `Port ${where.port} of bundle ${where.uuid} did not accept a connection within ${timeoutMs / 1000} s.`));
    }, timeoutMs);
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(connectError(where, error));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.removeAllListeners('error');
      resolve(socket);
    });
  });
}

/** One HTTP request to the port; the reply carries its status and end-to-end headers, then its body as it comes. */
function proxyHttp(where: PortAddress, request: Extract<PortRequest, { kind: 'http' }>, signal: AbortSignal, timeouts: PortTimeouts): Promise<Reply> {
  const body = Buffer.from(request.body_base64, 'base64');
  const headers: Record<string, string | string[]> = groupHeaders(request.headers.filter(([name]) => !REPLACED_HEADERS.has(name.toLowerCase())));
  // The program in the bundle sees a local client, as if the user were on its machine.
  headers.host = `localhost:${where.port}`;
  if (body.length > 0 || !['GET', 'HEAD', 'DELETE', 'OPTIONS'].includes(request.method)) headers['content-length'] = String(body.length);
  return new Promise((resolve, reject) => {
    const outgoing = http.request({
      host: where.host,
      port: where.port,
      method: request.method,
      path: request.path,
      headers,
      agent: false,
      signal,
      timeout: timeouts.connectMs,
    });
    outgoing.once('socket', (socket) => socket.once('connect', () => outgoing.setTimeout(timeouts.idleMs)));
    outgoing.on('timeout', () => outgoing.destroy(new ApiError('unavailable', `Port ${where.port} of bundle ${where.uuid} did not answer within ${timeouts.idleMs / 1000} s.`)));
    outgoing.once('error', (error) => reject(error instanceof ApiError ? error : connectError(where, error)));
    outgoing.once('response', (response) => {
      const headers = endToEndHeaders(response.rawHeaders);
      resolve({ header: { ok: true, status: response.statusCode ?? 502, headers }, body: response });
    });
    outgoing.end(body);
  });
}

function connectError(where: PortAddress, error: Error): ApiError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ECONNREFUSED') {
    return new ApiError(
      'unavailable',
      `Nothing listens on port ${where.port} of bundle ${where.uuid} (connection refused). ` +
        `A server in the bundle must listen on 0.0.0.0:${where.port}, not only on 127.0.0.1.`,
    );
  }
  return new ApiError('unavailable', `Could not reach port ${where.port} of bundle ${where.uuid}: ${error.message}`);
}
