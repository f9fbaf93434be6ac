// Requests that ask to take their connection over with HTTP Upgrade. Node gives those to 'upgrade'
// listeners, the connection already detached from its HTTP parser, and never to the app. Those
// asking for frames (common/frames.ts) are sent through the app like any request here, the
// connection kept beside them for the route that switches to frames; a route that does not switch
// answers in plain HTTP on it, and the connection then closes. Any other protocol is refused.
import type { FastifyInstance } from 'fastify';
import http, { type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { FRAMES_PROTOCOL } from '../../protocol/index.js';

export interface FramesConnection {
  socket: Duplex;
  /** Bytes that arrived with the request's head: the start of what the client sent next. */
  head: Buffer;
}

const connections = new WeakMap<IncomingMessage, FramesConnection>();

/** The connection of a request that asked for frames, or undefined. */
export function framesConnection(request: IncomingMessage): FramesConnection | undefined {
  return connections.get(request);
}

/** Sends framed requests through `app`; a closing app cuts the framed transfers still open. */
export function routeUpgrades(app: FastifyInstance): void {
  const server = app.server;
  const open = new Set<Duplex>();
  // Like fastify's own connections: a stopping server does not wait for a long transfer to end.
  app.addHook('preClose', (done) => {
    for (const socket of open) socket.destroy();
    done();
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const refusal = upgradeRefusal(request);
    if (refusal !== null) {
      const body = JSON.stringify({ error: { code: 'bad_request', message: refusal } });
      socket.end(`HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
      return;
    }
    connections.set(request, { socket, head });
    open.add(socket);
    socket.once('close', () => open.delete(socket));
    const response = new http.ServerResponse(request);
    response.shouldKeepAlive = false;
    response.assignSocket(socket as Socket);
    // The server's own 'drain' relay left with the parser: without this, a route writing more
    // than the socket takes at once (a relayed live read) would wait for 'drain' forever.
    const drained = (): void => void response.emit('drain');
    socket.on('drain', drained);
    response.once('finish', () => {
      socket.removeListener('drain', drained);
      response.detachSocket(socket as Socket);
      socket.end();
    });
    // Every failure of the connection ends it; none may surface as uncaught.
    socket.on('error', () => socket.destroy());
    server.emit('request', request, response);
  });
}

/**
 * Why an upgrade request is refused, or null. Past the switch Node reads no HTTP body, so a request
 * that declares one would leave its route waiting for it with no timeout: only GET and PUT without
 * a body may ask (a framed upload's bytes come as frames, after the switch).
 */
function upgradeRefusal(request: IncomingMessage): string | null {
  if (request.headers.upgrade !== FRAMES_PROTOCOL) return `This server upgrades connections only to ${FRAMES_PROTOCOL}.`;
  if (request.method !== 'GET' && request.method !== 'PUT') return `Only GET and PUT requests may ask for ${FRAMES_PROTOCOL}.`;
  const declared = request.headers['content-length'];
  if (request.headers['transfer-encoding'] !== undefined || (declared !== undefined && declared !== '0')) {
    return `A request asking for ${FRAMES_PROTOCOL} carries no HTTP body: send its bytes as frames.`;
  }
  return null;
}
