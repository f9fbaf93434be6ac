// Login, token and user-account routes (thin: the rules are in AuthService and UserService).
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  ChangePasswordRequest,
  CreateUserRequest,
  RevokeRequest,
  SignupRequest,
  TokenRequest,
  REST,
  routes,
} from '../../protocol/index.js';
import { audienceOf } from '../services/auth-service.js';
import type { RouteContext } from './app.js';

const UserNameParams = z.object({ name: z.string() });
const UsersQuery = z.object({ keywords: z.string().optional() });

export function registerAuthRoutes(app: FastifyInstance, { services, authenticate }: RouteContext): void {
  // request.ip is the socket's peer: no proxy headers are trusted, so a client cannot pick its own address.
  app.post(routes.token(), async (request) => {
    const body = TokenRequest.parse(request.body);
    const audience = audienceOf(body.client_id);
    if (body.grant_type === 'refresh_token') return services.auth.refresh(body.refresh_token, audience);
    return services.auth.login(body.username, body.password, request.ip, audience);
  });

  app.post(routes.revoke(), async (request) => {
    await services.auth.revoke(RevokeRequest.parse(request.body).token);
    return {};
  });

  app.post(routes.signup(), async (request) => {
    const body = SignupRequest.parse(request.body);
    return services.users.signUp(body.user_name, body.password, request.ip);
  });

  app.get(routes.user(), async (request) => authenticate(request));

  app.get(routes.users(), async (request) => {
    const actor = await authenticate(request);
    const { keywords } = UsersQuery.parse(request.query);
    return services.users.list(actor, (keywords ?? '').split(/\s+/).filter(Boolean));
  });

  app.post(routes.users(), async (request) => {
    const actor = await authenticate(request);
    const body = CreateUserRequest.parse(request.body);
    return services.users.createUser(actor, body.user_name, body.password, body.email);
  });

  app.get(`${REST}/users/:name`, async (request) => {
    const actor = await authenticate(request);
    return services.users.get(actor, UserNameParams.parse(request.params).name);
  });

  app.delete(`${REST}/users/:name`, async (request) => {
    const actor = await authenticate(request);
    await services.users.delete(actor, UserNameParams.parse(request.params).name);
    return {};
  });

  app.post(`${REST}/users/:name/password`, async (request) => {
    const actor = await authenticate(request);
    const body = ChangePasswordRequest.parse(request.body);
    const name = UserNameParams.parse(request.params).name;
    await services.users.changePassword(actor, name, body.old_password, body.new_password, request.ip);
    return {};
  });
}
