// Contents routes: upload a dataset's contents (streamed), list a path, download a file or a
// directory (a plain tar stream: compression costs more than the transfer on fast links).
import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import { ApiError, FRAMED_UPLOAD_HEADER, FRAMES_NOT_UPGRADED, FRAMES_PROTOCOL, REST, Uuid } from '../../protocol/index.js';
import { receiveFramedUpload, wantsFrames } from './framed-reply.js';
import type { RouteContext } from './app.js';
import { UuidParams } from './route-params.js';
import { clientGone } from './live-routes.js';
import { BlobQuery, decodePath, sendContentsBlob } from './blob-reply.js';

const Params = z.object({ uuid: Uuid, '*': z.string().default('') });
const UploadQuery = z.object({
  unpack: z.enum(['0', '1']).default('0'),
  filename: z.string().min(1).default('contents'),
});

export function registerContentsRoutes(app: FastifyInstance, { services, authenticate }: RouteContext): void {
  app.put(`${REST}/bundles/:uuid/contents`, async (request, reply) => {
    const user = await authenticate(request);
    const { uuid } = UuidParams.parse(request.params);
    const query = UploadQuery.parse(request.query);
    // Switched without the marker: the body would be read as empty. Never store that.
    if (wantsFrames(reply) && request.headers[FRAMED_UPLOAD_HEADER] === undefined) {
      throw new ApiError('bad_request', `An upload asking for ${FRAMES_PROTOCOL} also sends ${FRAMED_UPLOAD_HEADER}: 1.`);
    }
    if (request.headers[FRAMED_UPLOAD_HEADER] !== undefined) {
      // A proxy that dropped the Upgrade header left a request with no body: never store that.
      if (!wantsFrames(reply)) return reply.status(426).send({ error: { code: 'bad_request', message: FRAMES_NOT_UPGRADED } });
      const store = await services.contents.prepareUpload(user, uuid, query.unpack === '1', query.filename);
      return receiveFramedUpload(reply, store);
    }
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
    return sendContentsBlob(services, reply, user, params.uuid, decodePath(params['*']), BlobQuery.parse(request.query));
  });
}
