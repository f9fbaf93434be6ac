// Downloads one bundle target from the server into a local path: raw bytes for a file, a plain
// tar stream unpacked for a directory. It writes only under the destination it is given and
// never retries (the cache does); the caller's `admit` hook may stop it part-way.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { HttpResponse } from '../../common/http-response.js';
import { coalesceChunks } from '../../common/coalesce.js';
import { extractBundleTar } from '../../common/tar-extract.js';
import { ApiError, TARGET_TYPE_HEADER } from '../../protocol/index.js';

/** GET of a dependency's contents at PATH, answered with its stream. */
export type FetchBlob = (uuid: string, subPath: string, signal?: AbortSignal) => Promise<HttpResponse>;

/** Bytes received so far, and the total when the server said (a file's content-length) or the caller knew. */
export type OnBytes = (received: number, total: number | null) => void;

export interface DownloadHooks {
  signal?: AbortSignal | undefined;
  onBytes?: OnBytes | undefined;
  /**
   * Asked before each chunk is written, with the bytes received so far (that chunk included); a
   * rejection aborts the download with that error. Pending only when it must (e.g. to read the disk).
   */
  admit?: ((received: number) => Promise<void> | void) | undefined;
}

export async function downloadInto(
  fetchBlob: FetchBlob,
  uuid: string,
  subPath: string,
  dest: string,
  hooks: DownloadHooks = {},
): Promise<'file' | 'directory'> {
  const { signal, onBytes, admit } = hooks;
  const response = await fetchBlob(uuid, subPath, signal);
  const kind = response.headers.get(TARGET_TYPE_HEADER);
  if (kind !== 'file' && kind !== 'directory') {
    throw new ApiError('internal', `The server sent ${uuid}/${subPath} without a valid ${TARGET_TYPE_HEADER} header (got ${kind ?? 'none'}).`);
  }
  const body = response.body;
  const length = Number(response.headers.get('content-length') ?? NaN);
  const counter = countBytes(Number.isInteger(length) ? length : null, onBytes, admit);
  if (kind === 'file') {
    await pipeline(body, counter, createWriteStream(dest, { mode: 0o644 }), signal ? { signal } : {});
  } else {
    await mkdir(dest, { recursive: true });
    const extraction = extractBundleTar(dest);
    await pipeline(body, counter, coalesceChunks(), extraction.stream, signal ? { signal } : {});
    await extraction.finish();
  }
  return kind;
}

function countBytes(total: number | null, onBytes: OnBytes | undefined, admit: DownloadHooks['admit']): Transform {
  let received = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      received += chunk.length;
      let admitted: Promise<void> | void;
      try {
        admitted = admit?.(received);
      } catch (error) {
        callback(error as Error);
        return;
      }
      const pass = (): void => {
        onBytes?.(received, total);
        callback(null, chunk);
      };
      if (admitted instanceof Promise) admitted.then(pass, (error: unknown) => callback(error as Error));
      else pass();
    },
  });
}
