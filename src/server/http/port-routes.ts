// Routes to the ports of running bundles: netcat (raw bytes in, the port's answer streamed out)
// and an HTTP proxy (any method, path and body, answered with the bundle server's own status,
// headers and streamed body). The access token is used here and never passed to the bundle.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { endToEndHeaders, groupHeaders } from '../../common/http-headers.js';
import { NETCAT_MAX_BYTES, PROXY_BODY_MAX_BYTES, REST, Uuid } from '../../protocol/index.js';
import type { RouteContext } from './app.js';
import { clientGone, destroyWhenClientLeaves } from './live-routes.js';

const PortParams = z.object({
  uuid: Uuid,
  port: z.coerce.number().int().min(1, 'a port from 1 to 65535').max(65535, 'a port from 1 to 65535'),
});
const PROXY_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'] as const;
/** Never forwarded: the token is the server's business, and the proxy sets the framing itself. */
const NOT_FORWARDED = new Set(['authorization', 'content-length', 'host']);

export function registerPortRoutes(app: FastifyInstance, context: RouteContext): void {
  // Both take any body as raw bytes, whatever its declared type: their own scope, with one catch-all parser.
  void app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
    scope.put(`${REST}/bundles/:uuid/netcat/:port`, { bodyLimit: NETCAT_MAX_BYTES }, (request, reply) => netcat(request, reply, context));
    const handler = (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => proxy(request, reply, context);
    for (const url of [`${REST}/bundles/:uuid/netcurl/:port`, `${REST}/bundles/:uuid/netcurl/:port/*`]) {
      scope.route({ method: [...PROXY_METHODS], url, bodyLimit: PROXY_BODY_MAX_BYTES, handler });
    }
  });
}

async function netcat(request: FastifyRequest, reply: FastifyReply, { services, authenticate }: RouteContext): Promise<FastifyReply> {
  const user = await authenticate(request);
  const { uuid, port } = PortParams.parse(request.params);
  const live = await services.ports.netcat(user, uuid, port, rawBody(request), clientGone(reply));
  destroyWhenClientLeaves(reply, live.body);
  return reply.header('content-type', 'application/octet-stream').send(live.body);
}

async function proxy(request: FastifyRequest, reply: FastifyReply, { services, authenticate }: RouteContext): Promise<FastifyReply> {
  const user = await authenticate(request);
  const { uuid, port } = PortParams.parse(request.params);
  const prefix = `${REST}/bundles/${uuid}/netcurl/${port}`;
  const headers = endToEndHeaders(request.raw.rawHeaders, NOT_FORWARDED);
  headers.push(
    ['X-Forwarded-For', request.ip],
    ['X-Forwarded-Host', request.headers.host ?? ''],
    ['X-Forwarded-Proto', request.protocol],
    ['X-Forwarded-Prefix', prefix],
  );
  const body = rawBody(request);
  const live = await services.ports.proxy(user, uuid, port, { method: request.method, path: pathInsideBundle(request.url), headers, body }, clientGone(reply));
  void reply.status(live.header.status ?? 502);
  for (const [name, values] of Object.entries(groupHeaders(live.header.headers ?? []))) {
    void reply.header(name, values.length === 1 ? values[0] : values);
  }
  destroyWhenClientLeaves(reply, live.body);
  return reply.send(live.body);
}

/** The part of a proxy URL after `/netcurl/PORT`, as the client wrote it (still encoded), starting with '/'. */
export function pathInsideBundle(url: string): string {
  const match = /\/netcurl\/[^/?#]+(.*)$/s.exec(url);
  const rest = match?.[1] ?? '';
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/** The request's body as the catch-all parser read it; none for a request without one. */
function rawBody(request: FastifyRequest): Buffer {
  return Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
}
