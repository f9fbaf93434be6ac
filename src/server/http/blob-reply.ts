// Sends a bundle's bytes at a path: the raw file (or its head/tail lines) or a plain tar of a
// directory, from the worker running the bundle when it runs, else from the store. Shared by the
// user's contents route (`reader`: the user, checked on every bundle the path passes through) and
// the worker's dependency route (null: the route has checked the worker may read it).
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { readHeadLines, readTailLines } from '../../common/line-reader.js';
import { ApiError, TARGET_TYPE_HEADER } from '../../protocol/index.js';
import type { Caller } from '../permissions/access-control.js';
import type { Services } from '../services/services.js';
import { sendFramedReply, wantsFrames } from './framed-reply.js';
import { clientGone, sendLiveReply } from './live-routes.js';

export const BlobQuery = z.object({
  head: z.coerce.number().int().nonnegative().optional(),
  tail: z.coerce.number().int().nonnegative().optional(),
});
export type BlobQuery = z.infer<typeof BlobQuery>;

export async function sendContentsBlob(
  services: Services,
  reply: FastifyReply,
  reader: Caller | null,
  uuid: string,
  path: string,
  query: BlobQuery,
): Promise<FastifyReply> {
  // A bundle a worker is running: the worker serves the same answer the store would.
  const live = await services.live.liveTarget(reader, uuid, path);
  const answer = live ? await services.live.blob(live, { type: 'blob', ...query }, clientGone(reply)) : null;
  if (answer !== null) {
    if (!wantsFrames(reply) || query.head !== undefined || query.tail !== undefined) return sendLiveReply(reply, answer);
    const kind = answer.header.target_type ?? 'file';
    return sendFramedReply(reply, { [TARGET_TYPE_HEADER]: kind }, answer.body, kind === 'file' ? answer.header.size : undefined);
  }
  const target = await services.contents.resolveForRead(reader, uuid, path);
  if (target.kind === 'link') {
    throw new ApiError('bad_request', `'${target.subpath}' is a symbolic link; read its target instead.`);
  }
  if (wantsFrames(reply) && query.head === undefined && query.tail === undefined) {
    const headers = { [TARGET_TYPE_HEADER]: target.kind };
    if (target.kind === 'directory') return sendFramedReply(reply, headers, services.contents.tarDirectory(target.path));
    return sendFramedReply(reply, headers, services.contents.openFile(target.path), target.size);
  }
  void reply.header(TARGET_TYPE_HEADER, target.kind);
  if (target.kind === 'directory') {
    return reply.header('content-type', 'application/x-tar').send(services.contents.tarDirectory(target.path));
  }
  void reply.header('content-type', 'application/octet-stream');
  if (query.head !== undefined) return reply.send(await readHeadLines(target.path, query.head));
  if (query.tail !== undefined) return reply.send(await readTailLines(target.path, query.tail));
  return reply.header('content-length', target.size).send(services.contents.openFile(target.path));
}

/** A path from the URL's wildcard, each segment decoded on its own (an encoded '/' stays in its name). */
export function decodePath(raw: string): string {
  return raw
    .split('/')
    .map((part) => decodeURIComponent(part))
    .join('/');
}
