// Worker protocol routes. Workers log in as users but with the worker client id: these routes take
// only such worker tokens (`cl workers` is a user's route). A worker id is unique per user.
import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';
import { z } from 'zod';
import {
  ApiError,
  FinishRunRequest,
  REST,
  StagedRunsQuery,
  StartRunRequest,
  Uuid,
  WorkerCheckin,
  routes,
} from '../../protocol/index.js';
import { checkDependencyRead } from '../services/dependency-reads.js';
import type { RouteContext } from './app.js';
import { BlobQuery, decodePath, sendContentsBlob } from './blob-reply.js';
import { WorkerParams } from './route-params.js';

const RunParams = WorkerParams.extend({ uuid: Uuid });
const BlobParams = RunParams.extend({ '*': z.string().default('') });

export function registerWorkerRoutes(app: FastifyInstance, { services, authenticate, authenticateWorker }: RouteContext): void {
  app.get(routes.workersInfo(), async (request) => {
    return services.workers.list(await authenticate(request));
  });

  app.get(`${REST}/runs/staged`, async (request) => {
    const user = await authenticate(request);
    return { runs: await services.workers.stagedRuns(user, StagedRunsQuery.parse(request.query)) };
  });

  app.post(`${REST}/workers/:id/checkin`, async (request) => {
    const user = await authenticateWorker(request);
    const { id } = WorkerParams.parse(request.params);
    return services.workers.checkin(user, id, WorkerCheckin.parse(request.body));
  });

  app.get(`${REST}/workers/:id/messages`, async (request) => {
    const user = await authenticateWorker(request);
    const { id } = WorkerParams.parse(request.params);
    const { wait } = z.object({ wait: z.coerce.number().nonnegative().default(0) }).parse(request.query);
    const closed = new AbortController();
    request.raw.once('close', () => closed.abort());
    return { messages: await services.workers.messages(user, id, wait, closed.signal) };
  });

  app.post(`${REST}/workers/:id/runs/:uuid/start`, async (request) => {
    const user = await authenticateWorker(request);
    const { id, uuid } = RunParams.parse(request.params);
    const body = StartRunRequest.parse(request.body);
    return services.workers.start(user, id, uuid, body.assignment_id, body.hostname);
  });

  app.put(`${REST}/workers/:id/runs/:uuid/contents`, async (request) => {
    const user = await authenticateWorker(request);
    const { id, uuid } = RunParams.parse(request.params);
    const { assignment_id } = z.object({ assignment_id: z.string() }).parse(request.query);
    const body = request.body as Readable | undefined;
    if (!body || typeof body.pipe !== 'function') throw new ApiError('bad_request', 'Send the results as a tar stream.');
    return services.workers.uploadContents(user, id, uuid, assignment_id, body);
  });

  app.post(`${REST}/workers/:id/runs/:uuid/contents/in-place`, async (request) => {
    const user = await authenticateWorker(request);
    const { id, uuid } = RunParams.parse(request.params);
    const { assignment_id } = z.object({ assignment_id: z.string() }).parse(request.query);
    return services.workers.commitResultsInPlace(user, id, uuid, assignment_id);
  });

  app.post(`${REST}/workers/:id/runs/:uuid/finish`, async (request) => {
    const user = await authenticateWorker(request);
    const { id, uuid } = RunParams.parse(request.params);
    return services.workers.finish(user, id, uuid, FinishRunRequest.parse(request.body));
  });

  // A dependency of a run this worker holds; the user routes would need a user session.
  app.get(`${REST}/workers/:id/bundles/:uuid/contents/blob/*`, async (request, reply) => {
    const user = await authenticateWorker(request);
    const params = BlobParams.parse(request.params);
    const path = decodePath(params['*']);
    await checkDependencyRead(services.store, { owner_id: user.id, id: params.id }, params.uuid, path);
    return sendContentsBlob(services, reply, null, params.uuid, path, BlobQuery.parse(request.query));
  });
}
