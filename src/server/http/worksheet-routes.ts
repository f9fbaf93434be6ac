// Worksheet routes: the caller's home worksheet, lookup by spec, and contents.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { REST } from '../../protocol/index.js';
import type { RouteContext } from './app.js';
import { UuidParams } from './route-params.js';

export function registerWorksheetRoutes(app: FastifyInstance, { services, authenticate }: RouteContext): void {
  app.get(`${REST}/worksheets/home`, async (request) => services.worksheets.home(await authenticate(request)));

  app.get(`${REST}/worksheets`, async (request) => {
    const user = await authenticate(request);
    const { spec } = z.object({ spec: z.string() }).parse(request.query);
    return services.worksheets.resolve(user, spec);
  });

  app.get(`${REST}/worksheets/:uuid/contents`, async (request) => {
    const user = await authenticate(request);
    const { uuid } = UuidParams.parse(request.params);
    return services.worksheets.contents(user, uuid);
  });
}
