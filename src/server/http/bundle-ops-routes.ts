// Routes of the researcher operations (protocol/bundle-ops.ts lists them): search, edit, delete,
// children, memoize lookups, worksheet create/search/delete and items. Thin: parse, call, answer.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  AddItemRequest,
  CreateWorksheetRequest,
  DeleteBundlesRequest,
  MemoRequest,
  REST,
  SearchRequest,
  UpdateBundleRequest,
  Uuid,
  WorksheetSearchRequest,
  bundleOpsRoutes,
} from '../../protocol/index.js';
import { systemClock } from '../../common/clock.js';
import { randomIds } from '../ids.js';
import { BundleOpsService } from '../services/bundle-ops-service.js';
import { WorksheetOpsService } from '../services/worksheet-ops-service.js';
import type { RouteContext } from './app.js';
import { UuidParams } from './route-params.js';


export function registerBundleOpsRoutes(app: FastifyInstance, { services, authenticate }: RouteContext): void {
  const bundleOps = new BundleOpsService(services.store, services.blobs, services.worksheets, systemClock, services.access, services.groups);
  const worksheetOps = new WorksheetOpsService(services.store, services.worksheets, systemClock, randomIds, services.access);

  app.post(bundleOpsRoutes.search(), async (request) =>
    bundleOps.search(await authenticate(request), SearchRequest.parse(request.body)),
  );

  app.post(bundleOpsRoutes.deleteBundles(), async (request) => {
    const user = await authenticate(request);
    return { uuids: await bundleOps.delete(user, DeleteBundlesRequest.parse(request.body)) };
  });

  app.patch(`${REST}/bundles/:uuid`, async (request) => {
    const user = await authenticate(request);
    const { uuid } = UuidParams.parse(request.params);
    return bundleOps.update(user, uuid, UpdateBundleRequest.parse(request.body));
  });

  app.get(`${REST}/bundles/:uuid/children`, async (request) => {
    const user = await authenticate(request);
    return { bundles: await bundleOps.children(user, UuidParams.parse(request.params).uuid) };
  });

  app.get(`${REST}/bundles/:uuid/verbose-info`, async (request) => {
    const user = await authenticate(request);
    return bundleOps.verboseInfo(user, UuidParams.parse(request.params).uuid);
  });

  app.post(bundleOpsRoutes.memo(), async (request) => {
    const user = await authenticate(request);
    return { uuid: await bundleOps.memo(user, MemoRequest.parse(request.body)) };
  });

  app.post(bundleOpsRoutes.createWorksheet(), async (request) => {
    const user = await authenticate(request);
    const body = CreateWorksheetRequest.parse(request.body);
    return worksheetOps.create(user, body.name, body.title);
  });

  app.post(bundleOpsRoutes.searchWorksheets(), async (request) =>
    worksheetOps.search(await authenticate(request), WorksheetSearchRequest.parse(request.body).keywords),
  );

  app.delete(`${REST}/worksheets/:uuid`, async (request) => {
    const user = await authenticate(request);
    const { force } = z.object({ force: z.enum(['0', '1']).default('0') }).parse(request.query);
    return worksheetOps.delete(user, UuidParams.parse(request.params).uuid, force === '1');
  });

  app.get(`${REST}/worksheets/:uuid/items`, async (request) =>
    worksheetOps.items(await authenticate(request), UuidParams.parse(request.params).uuid),
  );

  app.post(`${REST}/worksheets/:uuid/items`, async (request) => {
    const user = await authenticate(request);
    return worksheetOps.add(user, UuidParams.parse(request.params).uuid, AddItemRequest.parse(request.body));
  });

  app.delete(`${REST}/worksheets/:uuid/items/:bundle`, async (request) => {
    const user = await authenticate(request);
    const { uuid, bundle } = z.object({ uuid: Uuid, bundle: Uuid }).parse(request.params);
    const { index } = z.object({ index: z.coerce.number().int().positive().optional() }).parse(request.query);
    return { removed: await worksheetOps.detach(user, uuid, bundle, index ?? null) };
  });
}
