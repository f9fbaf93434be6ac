// Bundle routes: create, resolve specs, read one, and actions (kill).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { BundleAction, CreateBundleRequest, REST, ResolveRequest, Uuid, WriteAction, routes } from '../../protocol/index.js';
import { resolveSpec } from '../services/spec-resolver.js';
import type { RouteContext } from './app.js';
import { UuidParams } from './route-params.js';
import { clientGone } from './live-routes.js';

/** The longest one wait request holds (clients ask again): under common proxy idle timeouts. */
const MAX_WAIT_SECONDS = 60;

export function registerBundleRoutes(app: FastifyInstance, { services, authenticate }: RouteContext): void {
  app.post(`${REST}/bundles`, async (request) => {
    const user = await authenticate(request);
    const { worksheet } = z.object({ worksheet: Uuid }).parse(request.query);
    return services.bundles.create(user, worksheet, CreateBundleRequest.parse(request.body));
  });

  app.post(routes.resolveBundles(), async (request) => {
    const user = await authenticate(request);
    const body = ResolveRequest.parse(request.body);
    // `^N` counts the worksheet's items: only on a worksheet the caller may read.
    if (body.worksheet) await services.worksheets.getRowFor(user, body.worksheet, 'read', 'read');
    const uuids: string[] = [];
    for (const spec of body.specs) uuids.push(await resolveSpec(services.store, services.access, user, spec, body.worksheet));
    return { uuids };
  });

  app.get(`${REST}/bundles/:uuid`, async (request) => {
    const user = await authenticate(request);
    const { uuid } = UuidParams.parse(request.params);
    return services.bundles.get(user, uuid);
  });

  app.get(`${REST}/bundles/:uuid/wait`, async (request, reply) => {
    const user = await authenticate(request);
    const { uuid } = UuidParams.parse(request.params);
    const { seconds } = z.object({ seconds: z.coerce.number().min(0).max(MAX_WAIT_SECONDS).default(30) }).parse(request.query);
    return services.bundles.waitFinal(user, uuid, seconds, clientGone(reply));
  });

  app.post(routes.bundleActions(), async (request, reply) => {
    const user = await authenticate(request);
    const action = z.union([BundleAction, WriteAction]).parse(request.body);
    if (action.type === 'write') {
      await services.live.write(user, action, clientGone(reply));
      return services.bundles.get(user, action.uuid).then((b) => ({ uuid: b.uuid, state: b.state }));
    }
    return services.bundles.kill(user, action.uuid);
  });
}
