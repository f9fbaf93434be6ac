// A thin HTTP client for the REST API, used by the CLI and the worker: bearer token, JSON bodies
// validated against protocol schemas, streamed bodies, and errors mapped to ApiError in one place.
// It holds no client or worker logic. Requests go through node:http, not fetch (see http-response.ts).
// node:https is loaded only for an https address (http-transport.ts).
import type http from 'node:http';
import { pipeline, type Duplex, type Readable } from 'node:stream';
import type { z } from 'zod';
import { ApiError, ErrorBody, FRAMED_SIZE_HEADER, FRAMES_PROTOCOL, RETRY_AFTER_HEADER } from '../protocol/index.js';
import { decodeFrames } from './frames.js';
import { HttpResponse } from './http-response.js';
import { isFileSlice, type FileSlice } from './file-slice.js';
import { framedUpload, type FramedUploadOptions } from './framed-upload.js';
import { streamRequest } from './stream-request.js';
import { transportFor } from './http-transport.js';

export interface HttpClientOptions {
  baseUrl: string;
  token?: string | undefined;
  /** Milliseconds before a request without a streamed body is abandoned. */
  timeoutMs?: number;
}

export interface RequestOptions {
  method?: string;
  json?: unknown;
  /** A streamed request body (or a file slice); sent with chunked transfer encoding through node:http. */
  body?: Readable | FileSlice;
  /** A small raw request body, sent as application/octet-stream. */
  bytes?: Uint8Array<ArrayBuffer>;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
  /**
   * Large contents: ask to move them as frames on the connection itself (see frames.ts), a
   * download's answer or an upload's `body` (a stream). The answer reads like any other; where the
   * connection is not switched, the bytes go as an ordinary body.
   */
  framed?: boolean;
}

export class HttpClient {
  readonly baseUrl: string;
  token: string | undefined;
  private readonly timeoutMs: number;

  constructor(options: HttpClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.token = options.token;
    this.timeoutMs = options.timeoutMs ?? 60_000;
  }

  /** Sends a request and validates the JSON answer against `schema`. */
  async json<S extends z.ZodType>(path: string, schema: S, options: RequestOptions = {}): Promise<z.infer<S>> {
    const response = await this.send(path, options);
    const body: unknown = await response.json();
    const parsed = schema.safeParse(body);
    if (!parsed.success) {
      throw new ApiError('internal', `Unexpected answer from ${this.baseUrl}${path}: ${parsed.error.message}`);
    }
    return parsed.data;
  }

  /** Sends a request and returns the response, whose body the caller streams (or destroys). */
  async send(path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    const url = `${this.baseUrl}${path}`;
    const headers: Record<string, string> = { ...options.headers };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    let body: string | Uint8Array | undefined;
    if (options.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(options.json);
    } else if (options.bytes !== undefined) {
      headers['content-type'] ??= 'application/octet-stream';
      body = options.bytes;
    } else if (options.body) {
      headers['content-type'] ??= 'application/octet-stream';
    }
    const signals = [options.signal].filter((s): s is AbortSignal => s !== undefined);
    const timeoutMs = options.timeoutMs ?? (options.body ? 0 : this.timeoutMs);
    if (timeoutMs > 0) signals.push(AbortSignal.timeout(timeoutMs));
    const signal = signals.length > 0 ? AbortSignal.any(signals) : undefined;
    const method = options.method ?? (body === undefined && !options.body ? 'GET' : 'POST');
    let response: HttpResponse;
    try {
      const streamed = options.body ? { method, headers, body: options.body, ...(signal ? { signal } : {}) } : undefined;
      if (streamed === undefined) response = await sendBuffered(url, method, headers, body, signal, options.framed === true);
      else if (options.framed === true && !isFileSlice(streamed.body)) response = await sendFramedStream(url, { ...streamed, body: streamed.body });
      else response = await sendStream(url, streamed);
    } catch (error) {
      throw connectionError(this.baseUrl, error);
    }
    if (!response.ok) throw await errorFromResponse(response);
    return response;
  }
}

/** A request with a small body (or none); resolves once the answer's headers are in. */
function sendBuffered(
  url: string,
  method: string,
  headers: Record<string, string>,
  body: string | Uint8Array | undefined,
  signal: AbortSignal | undefined,
  framed: boolean,
): Promise<HttpResponse> {
  const target = new URL(url);
  if (body !== undefined) headers['content-length'] = String(typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
  if (framed) Object.assign(headers, { connection: 'Upgrade', upgrade: FRAMES_PROTOCOL });
  return new Promise((resolve, reject) => {
    const request = transportFor(target).request(target, { method, headers, ...(signal ? { signal } : {}) });
    request.once('error', reject);
    request.once('response', (answer) => {
      // The signal also ends reading the body; its errors reach whoever reads it.
      resolve(new HttpResponse(answer.statusCode ?? 0, answer.statusMessage ?? '', answer.headers, answer));
    });
    request.once('upgrade', (answer, socket, head) => {
      if (answer.headers.upgrade !== FRAMES_PROTOCOL) {
        socket.destroy();
        reject(new Error(`the server switched to an unknown protocol '${answer.headers.upgrade ?? ''}'`));
        return;
      }
      resolve(framedResponse(answer, socket, head, signal));
    });
    request.end(body);
  });
}

/** The answer to a framed download, read like a plain 200 one: its body is the decoded frames. */
function framedResponse(answer: http.IncomingMessage, socket: Duplex, head: Buffer, signal: AbortSignal | undefined): HttpResponse {
  const decoded = decodeFrames();
  if (head.length > 0) socket.unshift(head);
  pipeline(socket, decoded, () => undefined);
  if (signal) {
    const abort = (): void => void decoded.destroy(signal.reason instanceof Error ? signal.reason : new Error('aborted'));
    if (signal.aborted) abort();
    else signal.addEventListener('abort', abort, { once: true });
    decoded.once('close', () => signal.removeEventListener('abort', abort));
  }
  const headers: http.IncomingHttpHeaders = { ...answer.headers };
  delete headers.connection;
  delete headers.upgrade;
  const size = answer.headers[FRAMED_SIZE_HEADER];
  if (typeof size === 'string') headers['content-length'] = size;
  return new HttpResponse(200, 'OK', headers, decoded);
}

/**
 * A streamed body goes through node:http rather than fetch: fetch reads a Node stream through a
 * web stream, which slowed large uploads (run results, replies to live reads) to about 0.6x of a
 * plain pipe (bench/live-reads.mjs).
 */
async function sendStream(url: string, options: Parameters<typeof streamRequest>[1]): Promise<HttpResponse> {
  const answer = await streamRequest(url, options);
  return HttpResponse.fromText(answer.status, answer.text, answer.headers, answer.statusText);
}

/** A framed upload (framed-upload.ts); sent plainly when the connection could not be switched (426). */
async function sendFramedStream(url: string, options: FramedUploadOptions): Promise<HttpResponse> {
  const answer = await framedUpload(url, options);
  if (answer.status === 426) return sendStream(url, options);
  return HttpResponse.fromText(answer.status, answer.text, answer.headers, answer.statusText);
}

function connectionError(baseUrl: string, error: unknown): ApiError {
  if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
    return new ApiError('unavailable', `The server at ${baseUrl} did not answer in time.`, { cause: error });
  }
  const cause = error instanceof Error ? (error.cause instanceof Error ? error.cause : error).message : String(error);
  return new ApiError('unavailable', `Cannot reach the server at ${baseUrl} (${cause}). Is it running?`, {
    cause: error,
  });
}

async function errorFromResponse(response: HttpResponse): Promise<ApiError> {
  const text = await response.text().catch(() => '');
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(text));
    const retryAfter = Number(response.headers.get(RETRY_AFTER_HEADER) ?? NaN);
    const options = Number.isFinite(retryAfter) && retryAfter >= 0 ? { retryAfterSeconds: retryAfter } : {};
    if (parsed.success) return new ApiError(parsed.data.error.code, parsed.data.error.message, options);
  } catch {
    // Not JSON: fall through to a generic message built from the status.
  }
  const code = response.status === 401 ? 'unauthorized' : response.status === 404 ? 'not_found' : 'internal';
  return new ApiError(code, `HTTP ${response.status} ${response.statusText}${text ? `: ${text.slice(0, 200)}` : ''}`);
}
