// The route another server of the same database forwards live requests to (cluster/peer-relay.ts):
// this server holds the worker's long poll, so it queues the request and streams the worker's
// reply back. Only a server that read this server's secret from the database may call it.
import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApiError, LIVE_REPLY_HEADER, PortMessage, ReadMessage, WriteMessage } from '../../protocol/index.js';
import { headerJson, PEER_RELAY_PATH, PEER_SECRET_HEADER } from '../cluster/peer-relay.js';
import type { RouteContext } from './app.js';
import { clientGone, destroyWhenClientLeaves } from './live-routes.js';
import { relayBody } from './relay-body.js';

const PeerRelayBody = z.object({
  owner_id: z.string().min(1),
  worker_id: z.string().min(1),
  message: z.discriminatedUnion('type', [ReadMessage, WriteMessage, PortMessage]),
  extra_wait_ms: z.number().int().min(0).max(600_000),
});

export function registerClusterRoutes(app: FastifyInstance, { services }: RouteContext): void {
  app.post(PEER_RELAY_PATH, async (request, reply) => {
    const given = request.headers[PEER_SECRET_HEADER];
    if (services.peerSecret === null || typeof given !== 'string' || !sameSecret(given, services.peerSecret)) {
      throw new ApiError('forbidden', 'Only another server of this database may forward requests to its workers.');
    }
    const forwarded = PeerRelayBody.parse(request.body);
    const live = await services.relay.request(
      { ownerId: forwarded.owner_id, workerId: forwarded.worker_id },
      (id) => ({ ...forwarded.message, request_id: id }),
      clientGone(reply),
      forwarded.extra_wait_ms,
    );
    destroyWhenClientLeaves(reply, live.body);
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'application/octet-stream', [LIVE_REPLY_HEADER]: headerJson(live.header) });
    relayBody(live.body, reply.raw);
    return reply;
  });
}

function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
