// User accounts: usage and quotas (`cl uinfo`), and root's changes to quotas and access (`cl uedit`).
import type { FastifyInstance } from 'fastify';
import { EditUserRequest, REST } from '../../protocol/index.js';
import type { RouteContext } from './app.js';

/** routes.userInfo(NAME) with NAME as a path parameter. */
const USER_INFO = `${REST}/users/:name/info`;

export function registerAccountRoutes(app: FastifyInstance, { services, authenticate }: RouteContext): void {
  app.get<{ Params: { name: string } }>(USER_INFO, async (request) => {
    const user = await authenticate(request);
    return services.quotas.info(user, request.params.name);
  });

  app.patch<{ Params: { name: string } }>(USER_INFO, async (request) => {
    const user = await authenticate(request);
    return services.quotas.edit(user, request.params.name, EditUserRequest.parse(request.body));
  });
}
