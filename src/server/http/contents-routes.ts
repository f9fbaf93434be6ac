// Contents routes: upload a dataset's contents (streamed), list a path, download a file or a
// directory (a plain tar stream: compression costs more than the transfer on fast links).
import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { ApiError, REST, TARGET_TYPE_HEADER, Uuid } from '../../protocol/index.js';
import { readHeadLines, readTailLines } from '../../common/line-reader.js';
import type { RouteContext } from './app.js';
import { UuidParams } from './route-params.js';
import { clientGone, sendLiveReply } from './live-routes.js';

const Params = z.object({ uuid: Uuid, '*': z.string().default('') });
const BlobQuery = z.object({
  head: z.coerce.number().int().nonnegative().optional(),
  tail: z.coerce.number().int().nonnegative().optional(),
});
const UploadQuery = z.object({
  unpack: z.enum(['0', '1']).default('0'),
  filename: z.string().min(1).default('contents'),
});

export function registerContentsRoutes(app: FastifyInstance, { services, authenticate }: RouteContext): void {
  app.put(`${REST}/bundles/:uuid/contents`, async (request) => {
    const user = await authenticate(request);
    const { uuid } = UuidParams.parse(request.params);
    const query = UploadQuery.parse(request.query);
    const body = request.body as Readable | undefined;
    if (!body || typeof body.pipe !== 'function') {
      throw new ApiError('bad_request', 'Send the contents as an application/octet-stream body.');
    }
    return services.contents.upload(user, uuid, body, query.unpack === '1', query.filename);
  });

  app.get(`${REST}/bundles/:uuid/contents/info/*`, async (request, reply) => {
    const user = await authenticate(request);
    const params = Params.parse(request.params);
    const live = await services.live.liveTarget(user, params.uuid, decodePath(params['*']));
    // null: the run ended just before the worker got the read, and the store has it now.
    const answer = live ? await services.live.info(live, clientGone(reply)) : null;
    if (answer !== null) return answer;
    return services.contents.info(user, params.uuid, decodePath(params['*']));
  });

  app.get(`${REST}/bundles/:uuid/contents/blob/*`, async (request, reply) => {
    const user = await authenticate(request);
    const params = Params.parse(request.params);
    const query = BlobQuery.parse(request.query);
    // A bundle a worker is running: the worker serves the same answer the store would.
    const live = await services.live.liveTarget(user, params.uuid, decodePath(params['*']));
    const answer = live ? await services.live.blob(live, { type: 'blob', ...query }, clientGone(reply)) : null;
    if (answer !== null) return sendLiveReply(reply, answer);
    const target = await services.contents.resolveForRead(user, params.uuid, decodePath(params['*']));
    if (target.kind === 'link') {
      throw new ApiError('bad_request', `'${target.subpath}' is a symbolic link; read its target instead.`);
    }
    void reply.header(TARGET_TYPE_HEADER, target.kind);
    if (target.kind === 'directory') {
      return reply.header('content-type', 'application/x-tar').send(services.contents.tarDirectory(target.path));
    }
    void reply.header('content-type', 'application/octet-stream');
    if (query.head !== undefined) return reply.send(await readHeadLines(target.path, query.head));
    if (query.tail !== undefined) return reply.send(await readTailLines(target.path, query.tail));
    return reply.header('content-length', target.size).send(services.contents.openFile(target.path));
  });
}

function decodePath(raw: string): string {
  return raw
    .split('/')
    .map((part) => decodeURIComponent(part))
    .join('/');
}
