// Sends an upload as frames on a connection switched from HTTP (see frames.ts and the server's
// framed-reply.ts): the request goes out with no body, the server answers 101 once it has checked
// the caller may upload, the body follows as frames, and the server's answer comes back framed. A
// server that answers in plain HTTP instead (a refusal, or 426 when a proxy dropped the Upgrade
// header) is answered here as it would be for any request; the body is then left unread.
import type { Duplex, Readable } from 'node:stream';
import { FRAMED_UPLOAD_HEADER, FRAMES_PROTOCOL } from '../protocol/index.js';
import { decodeFrames, sendFramed } from './frames.js';
import { transportFor } from './http-transport.js';
import type { StreamAnswer } from './stream-request.js';

export interface FramedUploadOptions {
  method: string;
  headers: Record<string, string>;
  body: Readable;
  signal?: AbortSignal;
}

export function framedUpload(url: string, options: FramedUploadOptions): Promise<StreamAnswer> {
  const target = new URL(url);
  const headers = { ...options.headers, connection: 'Upgrade', upgrade: FRAMES_PROTOCOL, [FRAMED_UPLOAD_HEADER]: '1', 'content-length': '0' };
  return new Promise<StreamAnswer>((resolve, reject) => {
    const request = transportFor(target).request(target, {
      method: options.method,
      headers,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    request.once('error', reject);
    request.once('response', (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('error', reject);
      response.once('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: response.statusCode ?? 0, statusText: response.statusMessage ?? '', headers: response.headers, text });
      });
    });
    request.once('upgrade', (_answer, socket: Duplex, head: Buffer) => {
      exchange(socket, head, options).then(resolve, reject);
    });
    request.end();
  });
}

/** Sends the body as frames while reading the framed answer, which may come first (a refusal). */
function exchange(socket: Duplex, head: Buffer, options: FramedUploadOptions): Promise<StreamAnswer> {
  const { body, signal } = options;
  return new Promise<StreamAnswer>((resolve, reject) => {
    let settled = false;
    const settle = (outcome: () => void): void => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener('abort', abort);
      body.destroy();
      socket.destroy();
      outcome();
    };
    const abort = (): void => settle(() => reject(signal?.reason instanceof Error ? signal.reason : new Error('aborted')));
    if (signal?.aborted) return abort();
    signal?.addEventListener('abort', abort, { once: true });

    const answer = decodeFrames();
    const chunks: Buffer[] = [];
    answer.on('data', (chunk: Buffer) => chunks.push(chunk));
    answer.once('error', (error) => settle(() => reject(new Error(`The server did not answer the upload: ${error.message}`))));
    answer.once('end', () => {
      settle(() => {
        try {
          const { status, body: json } = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { status: number; body: unknown };
          resolve({ status, statusText: '', headers: {}, text: JSON.stringify(json) });
        } catch (error) {
          reject(new Error(`The server's answer to the upload is not JSON: ${(error as Error).message}`));
        }
      });
    });
    if (head.length > 0) answer.write(head);
    socket.pipe(answer);
    socket.on('error', () => undefined); // what follows it is the 'close' below
    // A connection cut (a server killed) never ends `answer`: without this the upload would wait on
    // nothing, and the process would exit as if it had succeeded. A turn later, so that an answer
    // that did arrive whole is taken first.
    socket.once('close', () => {
      setImmediate(() => settle(() => reject(new Error('The connection to the server closed before it answered the upload; upload it again.'))));
    });
    body.once('error', (error) => settle(() => reject(error)));
    void sendFramed(body, socket, { keepOpen: true });
  });
}
