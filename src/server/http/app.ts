// The HTTP shell: fastify set-up, body parsing (JSON validated by zod; raw streams for contents),
// bearer authentication, and the one place where errors become JSON error bodies.
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import { ApiError, JSON_BODY_MAX_BYTES, RETRY_AFTER_HEADER, type ErrorBody, type User } from '../../protocol/index.js';
import type { Logger } from '../../common/log.js';
import type { Services } from '../services/services.js';
import { registerAccountRoutes } from './account-routes.js';
import { registerAuthRoutes } from './auth-routes.js';
import { registerBundleOpsRoutes } from './bundle-ops-routes.js';
import { registerBundleRoutes } from './bundle-routes.js';
import { registerClusterRoutes } from './cluster-routes.js';
import { registerContentsRoutes } from './contents-routes.js';
import { errorStatus, toErrorBody } from './error-body.js';
import { routeUpgrades } from './upgrades.js';
import { registerGroupRoutes } from './group-routes.js';
import { registerLiveRoutes } from './live-routes.js';
import { registerPortRoutes } from './port-routes.js';
import { registerWorkerRoutes } from './worker-routes.js';
import { registerWorksheetRoutes } from './worksheet-routes.js';
import { DEFAULT_WEB_DIR, registerWebRoutes } from './web-routes.js';

export interface RouteContext {
  services: Services;
  /** User routes: a user session's access token (a worker's is refused). */
  authenticate(request: FastifyRequest): Promise<User>;
  /** Worker routes: a worker's access token (a user session's is refused). */
  authenticateWorker(request: FastifyRequest): Promise<User>;
}

/** `webDir`: the web interface's static build (dist/web), served at `/`. */
export function buildApp(services: Services, log: Logger, webDir: string = DEFAULT_WEB_DIR): FastifyInstance {
  // JSON bodies are parsed whole in memory: the limit fits the largest legitimate request (limits.ts).
  const app = Fastify({ logger: false, bodyLimit: JSON_BODY_MAX_BYTES });
  // Contents travel as raw streams: hand the request stream itself to the route (size limits are
  // enforced while storing, since this bypasses fastify's bodyLimit).
  app.addContentTypeParser(['application/octet-stream', 'application/x-tar'], (_request, payload, done) => done(null, payload));
  // Large contents may travel as frames on a connection taken over from HTTP (framed-reply.ts).
  routeUpgrades(app);

  app.setErrorHandler((error, request, reply) => {
    const body = isTooLarge(error) ? tooLargeBody(request) : toErrorBody(error);
    const status = errorStatus(error, body);
    // Only unexpected failures have a stack worth logging; the others are answers.
    if (status === 500) log.child({ request: request.id }).error(`request failed: ${describeForLog(error)}`, { method: request.method, url: request.url });
    if (error instanceof ApiError && error.retryAfterSeconds !== undefined) void reply.header(RETRY_AFTER_HEADER, String(error.retryAfterSeconds));
    // Refused before its body was read whole (an upload over a limit): the client may still count
    // the connection as reusable, but the unread rest would stall the next request on it. End it.
    if (!request.raw.complete) void reply.header('connection', 'close');
    void reply.status(status).send(body);
  });
  app.setNotFoundHandler((request, reply) => {
    void reply.status(404).send({ error: { code: 'not_found', message: `No route ${request.method} ${request.url}.` } });
  });

  const context: RouteContext = {
    services,
    authenticate: (request) => services.auth.authenticate(bearerToken(request), 'user'),
    authenticateWorker: (request) => services.auth.authenticate(bearerToken(request), 'worker'),
  };
  registerAuthRoutes(app, context);
  registerAccountRoutes(app, context);
  registerWorksheetRoutes(app, context);
  registerBundleRoutes(app, context);
  registerBundleOpsRoutes(app, context);
  registerContentsRoutes(app, context);
  registerGroupRoutes(app, context);
  registerWorkerRoutes(app, context);
  registerLiveRoutes(app, context);
  registerPortRoutes(app, context);
  registerClusterRoutes(app, context);
  registerWebRoutes(app, webDir);
  return app;
}

function bearerToken(request: FastifyRequest): string {
  const match = /^Bearer (.+)$/.exec(request.headers.authorization ?? '');
  if (!match?.[1]) throw new ApiError('unauthorized', 'Log in first: this request has no access token.');
  return match[1];
}

function isTooLarge(error: unknown): boolean {
  return (error as { statusCode?: number }).statusCode === 413 && !(error instanceof ApiError);
}

/** fastify's own 413 says only "too large": say how large, and what the limit of this route is. */
function tooLargeBody(request: FastifyRequest): ErrorBody {
  const limit = request.routeOptions.bodyLimit ?? JSON_BODY_MAX_BYTES;
  const declared = Number(request.headers['content-length']);
  const size = Number.isFinite(declared) && declared > 0 ? `${declared} bytes` : `more than ${limit} bytes`;
  const hint = limit === JSON_BODY_MAX_BYTES ? ' Send large data as bundle contents (cl upload).' : '';
  return { error: { code: 'too_large', message: `The request body is ${size}; the limit is ${limit} bytes.${hint}` } };
}

/** A failure with its stack, and its cause's: a user sees a short message, the operator the detail. */
function describeForLog(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const cause = error.cause === undefined ? '' : `\ncaused by: ${describeForLog(error.cause)}`;
  return `${error.stack ?? error.message}${cause}`;
}
