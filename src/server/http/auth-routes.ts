// Login and identity routes.
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { TokenRequest, routes } from '../../protocol/index.js';
import type { RouteContext } from './app.js';

const CreateUserRequest = z.object({ user_name: z.string(), password: z.string() });

export function registerAuthRoutes(app: FastifyInstance, { services, authenticate }: RouteContext): void {
  app.post(routes.token(), async (request) => {
    const body = TokenRequest.parse(request.body);
    // The socket's peer: no proxy headers are trusted, so a client cannot pick its own address.
    return services.auth.login(body.username, body.password, request.ip);
  });

  app.get(routes.user(), async (request) => authenticate(request));

  app.post('/rest/users', async (request, reply) => {
    const user = await authenticate(request);
    if (!user.is_root) return reply.status(403).send({ error: { code: 'forbidden', message: 'Only the root user may create users.' } });
    const body = CreateUserRequest.parse(request.body);
    return services.auth.createUser(body.user_name, body.password);
  });
}
