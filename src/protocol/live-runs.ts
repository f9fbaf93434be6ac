// Live runs: reads, follows and writes of a bundle that a worker is running. The server relays a
// request to the worker holding the run (a WorkerMessage with a request id); the worker answers by
// PUTting a reply to `/rest/workers/:id/replies/:request_id`: a small JSON header in the
// LIVE_REPLY_HEADER request header, then the body (JSON for info/write, raw bytes, a tar stream,
// or output frames for a follow). No I/O here.
import { z } from 'zod';
import { Uuid } from './bundles.js';
import { ErrorCode } from './errors.js';

/** Largest string `cl write` may put into a running bundle. */
export const WRITE_MAX_BYTES = 64 * 1024;
/** Header of a worker's reply, and of the answer the server gives the waiting client. */
export const LIVE_REPLY_HEADER = 'x-codalab-reply';

const Count = z.number().int().nonnegative();

export const ReadArgs = z.discriminatedUnion('type', [
  /** One level of a path: TargetInfo as JSON. */
  z.object({ type: z.literal('info') }),
  /** A file's bytes (optionally the first/last N lines, or a byte range), or a tar of a directory. */
  z.object({
    type: z.literal('blob'),
    head: Count.optional(),
    tail: Count.optional(),
    offset: Count.optional(),
    length: Count.optional(),
  }),
  /**
   * stdout and stderr from the given offsets as output frames, pushed as they grow, until the
   * container has exited (then the rest is flushed) or `max_seconds` passed (the client reconnects).
   */
  z.object({ type: z.literal('follow'), stdout: Count, stderr: Count, max_seconds: z.number().positive() }),
]);
export type ReadArgs = z.infer<typeof ReadArgs>;

export const ReadMessage = z.object({
  type: z.literal('read'),
  request_id: z.string().min(1),
  uuid: Uuid,
  assignment_id: z.string(),
  path: z.string(),
  args: ReadArgs,
});
export type ReadMessage = z.infer<typeof ReadMessage>;

export const WriteMessage = z.object({
  type: z.literal('write'),
  request_id: z.string().min(1),
  uuid: Uuid,
  assignment_id: z.string(),
  path: z.string(),
  string: z.string(),
});
export type WriteMessage = z.infer<typeof WriteMessage>;

/** Most bytes `cl netcat` sends to a port in one message. */
export const NETCAT_MAX_BYTES = 1024 * 1024;
/** Largest request body the HTTP proxy forwards into a running bundle. */
export const PROXY_BODY_MAX_BYTES = 16 * 1024 * 1024;

export const PortNumber = z.number().int().min(1).max(65535);
/** Header name and value pairs, in order (a name may repeat). */
export const HeaderPairs = z.array(z.tuple([z.string(), z.string()]));

export const PortRequest = z.discriminatedUnion('kind', [
  /** Raw TCP: send these bytes, close the sending side, and answer with everything the port sends back until it closes. */
  z.object({ kind: z.literal('netcat'), message_base64: z.string() }),
  /** One HTTP/1.1 request to the port; the answer carries its status, headers and body. */
  z.object({
    kind: z.literal('http'),
    method: z.string().regex(/^[A-Z]+$/, 'an HTTP method in capitals'),
    /** Path and query, starting with '/'. */
    path: z.string().startsWith('/'),
    headers: HeaderPairs,
    body_base64: z.string(),
  }),
]);
export type PortRequest = z.infer<typeof PortRequest>;

/** Talk to a port of a running bundle's container (`cl netcat`, the HTTP proxy). */
export const PortMessage = z.object({
  type: z.literal('port'),
  request_id: z.string().min(1),
  uuid: Uuid,
  assignment_id: z.string(),
  port: PortNumber,
  request: PortRequest,
});
export type PortMessage = z.infer<typeof PortMessage>;

export const LiveReplyHeader = z.object({
  ok: z.boolean(),
  error: z.object({ code: ErrorCode, message: z.string() }).optional(),
  /** For blob reads: what the body holds. */
  target_type: z.enum(['file', 'directory', 'link']).optional(),
  /** For whole-file blob reads: the exact byte count of the body. */
  size: Count.optional(),
  /** For proxied HTTP requests: the status and headers the bundle's server answered with. */
  status: z.number().int().min(100).max(599).optional(),
  headers: HeaderPairs.optional(),
});
export type LiveReplyHeader = z.infer<typeof LiveReplyHeader>;

/** `cl write RUN/path STRING`, through POST /rest/bundle-actions. */
export const WriteAction = z.object({
  type: z.literal('write'),
  uuid: Uuid,
  subpath: z.string().min(1),
  string: z.string(),
});
export type WriteAction = z.infer<typeof WriteAction>;

export const liveRoutes = {
  /** PUT: a worker's reply to a relayed request. */
  reply: (workerId: string, requestId: string) =>
    `/rest/workers/${encodeURIComponent(workerId)}/replies/${encodeURIComponent(requestId)}`,
  /** GET: stdout and stderr of a run from these offsets, as output frames, live while it runs. */
  follow: (uuid: string, offsets: { stdout: number; stderr: number }) =>
    `/rest/bundles/${uuid}/follow?stdout=${offsets.stdout}&stderr=${offsets.stderr}`,
  /** PUT: raw bytes to a port of a running bundle; the answer is what the port sent back. */
  netcat: (uuid: string, port: number) => `/rest/bundles/${uuid}/netcat/${port}`,
  /** Any method: an HTTP proxy to a port of a running bundle; `path` starts with '/'. */
  netcurl: (uuid: string, port: number, path = '/') => `/rest/bundles/${uuid}/netcurl/${port}${path}`,
} as const;
