// Sends one request whose body is a Node stream through node:http(s), piped straight into the
// socket: no web-stream conversion, so large uploads (run results, replies to live reads) go at
// the speed of a plain pipe. It returns the answer's status and text; mapping them to errors and
// parsing them is the caller's (HttpClient's) job.
import http from 'node:http';
import type { Readable } from 'node:stream';
import { transportFor } from './http-transport.js';
import { isFileSlice, writeFileSlice, type FileSlice } from './file-slice.js';

export interface StreamRequestOptions {
  method: string;
  headers: Record<string, string>;
  /** A stream, or a slice of an open file (sent with reused buffers, then its handle is closed). */
  body: Readable | FileSlice;
  signal?: AbortSignal;
}

export interface StreamAnswer {
  status: number;
  statusText: string;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/**
 * Pipes `body` into a request to `url` and resolves with the answer once it has been read. An
 * error of the body, the connection or the signal rejects (the body is then destroyed); an error
 * answer that arrives before the body was sent stops the upload at once.
 */
export function streamRequest(url: string, options: StreamRequestOptions): Promise<StreamAnswer> {
  const target = new URL(url);
  const { body } = options;
  const sending = new AbortController();
  let bodyDone = false;
  /** Stops producing the body: destroys a stream, or stops reading a file slice. */
  const stopBody = (): void => {
    sending.abort();
    if (!isFileSlice(body)) body.destroy();
  };
  return new Promise<StreamAnswer>((resolve, reject) => {
    let settled = false;
    const fail = (error: unknown): void => {
      if (settled) return;
      settled = true;
      stopBody();
      request.destroy();
      reject(error);
    };
    const request = transportFor(target).request(target, {
      method: options.method,
      headers: options.headers,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    request.on('error', fail);
    request.once('response', (response) => {
      const status = response.statusCode ?? 0;
      // The server will not read the rest: stop producing it (the file handle or tar closes).
      if (status >= 400 && !bodyDone) {
        if (!isFileSlice(body)) body.unpipe(request);
        stopBody();
      }
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('error', fail);
      response.once('end', () => {
        if (settled) return;
        settled = true;
        // Answered before the whole body was sent: stop it; this connection cannot carry another request.
        if (!request.writableFinished) {
          stopBody();
          request.destroy();
        }
        resolve({ status, statusText: response.statusMessage ?? '', headers: response.headers, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    if (isFileSlice(body)) {
      writeFileSlice(body, request, sending.signal)
        .then(() => {
          bodyDone = true;
          if (!sending.signal.aborted) request.end();
        }, fail)
        .finally(() => void body.handle.close().catch(() => undefined));
    } else {
      body.once('end', () => (bodyDone = true));
      body.on('error', fail);
      body.pipe(request);
    }
  });
}
