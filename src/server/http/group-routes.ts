// Routes of groups and sharing (protocol/groups.ts lists them). Thin: parse, call, answer.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  ChownRequest,
  CreateGroupRequest,
  PutMemberRequest,
  REST,
  SetBundlePermissionRequest,
  SetWorksheetPermissionRequest,
  groupRoutes,
} from '../../protocol/index.js';
import type { RouteContext } from './app.js';

const GroupParams = z.object({ spec: z.string().min(1).max(200) });
const MemberParams = GroupParams.extend({ user: z.string().min(1).max(200) });

export function registerGroupRoutes(app: FastifyInstance, { services, authenticate }: RouteContext): void {
  const { groups, sharing } = services;
  app.get(groupRoutes.groups(), async (request) => groups.list(await authenticate(request)));

  app.post(groupRoutes.groups(), async (request) => {
    const user = await authenticate(request);
    return groups.create(user, CreateGroupRequest.parse(request.body).name);
  });

  app.get(`${REST}/groups/:spec`, async (request) => {
    const user = await authenticate(request);
    return groups.info(user, GroupParams.parse(request.params).spec);
  });

  app.delete(`${REST}/groups/:spec`, async (request) => {
    const user = await authenticate(request);
    return groups.delete(user, GroupParams.parse(request.params).spec);
  });

  app.put(`${REST}/groups/:spec/members/:user`, async (request) => {
    const caller = await authenticate(request);
    const { spec, user } = MemberParams.parse(request.params);
    return groups.addMember(caller, spec, user, PutMemberRequest.parse(request.body ?? {}).is_admin);
  });

  app.delete(`${REST}/groups/:spec/members/:user`, async (request) => {
    const caller = await authenticate(request);
    const { spec, user } = MemberParams.parse(request.params);
    return groups.removeMember(caller, spec, user);
  });

  app.post(groupRoutes.bundlePermissions(), async (request) => {
    const user = await authenticate(request);
    return sharing.setBundlePermission(user, SetBundlePermissionRequest.parse(request.body));
  });

  app.post(groupRoutes.worksheetPermissions(), async (request) => {
    const user = await authenticate(request);
    return sharing.setWorksheetPermission(user, SetWorksheetPermissionRequest.parse(request.body));
  });

  app.post(groupRoutes.bundleOwner(), async (request) => {
    const user = await authenticate(request);
    return sharing.chown(user, ChownRequest.parse(request.body));
  });
}
