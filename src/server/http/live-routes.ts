// Routes of live runs: a worker's replies to relayed requests (streamed straight on to the
// waiting client), and the followed output of a run (stdout and stderr as output frames).
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { OUTPUT_FRAMES_CONTENT_TYPE } from '../../common/output-frames.js';
import { ApiError, LIVE_REPLY_HEADER, LiveReplyHeader, REST, TARGET_TYPE_HEADER } from '../../protocol/index.js';
import type { RelayReply } from '../services/worker-relay.js';
import { relayBody } from './relay-body.js';
import type { RouteContext } from './app.js';
import { WorkerParams, UuidParams } from './route-params.js';

/** Header of a follow answer: where the output came from (`live`, `store`, or `pending`: not started yet). */
export const FOLLOW_SOURCE_HEADER = 'x-codalab-follow-source';

const ReplyParams = WorkerParams.extend({ request_id: z.string().min(1).max(100) });
const FollowQuery = z.object({
  stdout: z.coerce.number().int().nonnegative().default(0),
  stderr: z.coerce.number().int().nonnegative().default(0),
});

export function registerLiveRoutes(app: FastifyInstance, { services, authenticate, authenticateWorker }: RouteContext): void {
  app.put(`${REST}/workers/:id/replies/:request_id`, async (request) => {
    const user = await authenticateWorker(request);
    const { id, request_id: requestId } = ReplyParams.parse(request.params);
    const raw = request.headers[LIVE_REPLY_HEADER];
    let header: LiveReplyHeader;
    try {
      header = LiveReplyHeader.parse(JSON.parse(typeof raw === 'string' ? raw : ''));
    } catch (error) {
      throw new ApiError('bad_request', `Send the reply's header as JSON in ${LIVE_REPLY_HEADER}.`, { cause: error });
    }
    const body = request.body as Readable | undefined;
    if (!body || typeof body.pipe !== 'function') throw new ApiError('bad_request', 'Send the reply as an application/octet-stream body.');
    await services.relay.deliver({ ownerId: user.id, workerId: id }, requestId, header, body);
    return { accepted: true };
  });

  app.get(`${REST}/bundles/:uuid/follow`, async (request, reply) => {
    const user = await authenticate(request);
    const { uuid } = UuidParams.parse(request.params);
    const offsets = FollowQuery.parse(request.query);
    const { source, body } = await services.live.follow(user, uuid, offsets, clientGone(reply));
    destroyWhenClientLeaves(reply, body);
    return reply.header(FOLLOW_SOURCE_HEADER, source).header('content-type', OUTPUT_FRAMES_CONTENT_TYPE).send(body);
  });
}

/** Aborts when the client's connection closes before its answer was sent. */
export function clientGone(reply: FastifyReply): AbortSignal {
  const controller = new AbortController();
  reply.raw.once('close', () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  return controller.signal;
}

/**
 * Streams a worker's reply to the client with the headers a store read would have. The reply is
 * written here, past fastify's sending (see relay-body for why).
 */
export function sendLiveReply(reply: FastifyReply, live: RelayReply): FastifyReply {
  const type = live.header.target_type ?? 'file';
  void reply.header(TARGET_TYPE_HEADER, type);
  void reply.header('content-type', type === 'directory' ? 'application/x-tar' : 'application/octet-stream');
  if (live.header.size !== undefined) void reply.header('content-length', live.header.size);
  destroyWhenClientLeaves(reply, live.body);
  reply.hijack();
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) reply.raw.setHeader(name, value);
  reply.raw.writeHead(reply.statusCode);
  relayBody(live.body, reply.raw);
  return reply;
}

/** A client that leaves ends the worker's upload too, so the worker stops reading. */
export function destroyWhenClientLeaves(reply: FastifyReply, body: Readable): void {
  reply.raw.once('close', () => {
    if (!body.readableEnded) body.destroy();
  });
}
