// Reading a bundle's contents through the API: the info of a path (file, directory or link) and
// the bytes of a file, streamed to a destination with back-pressure and without ending it (the
// destination is usually stdout, shared by later output).
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { ApiError, routes, TargetInfo } from '../protocol/index.js';
import type { ApiClient } from './api-client.js';

export interface BlobRange {
  head?: number;
  tail?: number;
}

export async function getTargetInfo(api: ApiClient, uuid: string, path: string): Promise<TargetInfo> {
  return api.json(routes.contentsInfo(uuid, path), TargetInfo);
}

/** Streams a file's bytes into `dest`. */
export async function copyBlob(api: ApiClient, uuid: string, path: string, dest: Writable, range: BlobRange = {}): Promise<void> {
  const query = new URLSearchParams();
  if (range.head !== undefined) query.set('head', String(range.head));
  if (range.tail !== undefined) query.set('tail', String(range.tail));
  const suffix = query.size > 0 ? `?${query.toString()}` : '';
  // No timeout: a large file may take longer than any fixed limit to arrive.
  const response = await api.send(`${routes.contentsBlob(uuid, path)}${suffix}`, { timeoutMs: 0, framed: true });
  if (!response.body) return;
  for await (const chunk of response.body) {
    if (!dest.write(chunk)) await once(dest, 'drain');
  }
}

/** Like copyBlob, but a missing file copies nothing and returns false. */
export async function copyBlobIfPresent(api: ApiClient, uuid: string, path: string, dest: Writable, range: BlobRange = {}): Promise<boolean> {
  try {
    await copyBlob(api, uuid, path, dest, range);
    return true;
  } catch (error) {
    if (error instanceof ApiError && error.code === 'not_found') return false;
    throw error;
  }
}
