// An HTTP answer as the REST clients (cl, the worker) read it: status, headers and a body that is a
// Node stream. It stands in for fetch's Response, whose implementation (undici) costs about 50 ms
// to load at a `cl` start and keeps the process alive for about 150 ms after the last request.
import type { IncomingHttpHeaders } from 'node:http';
import { Readable } from 'node:stream';

export class HttpResponse {
  readonly ok: boolean;

  constructor(
    readonly status: number,
    readonly statusText: string,
    private readonly rawHeaders: IncomingHttpHeaders,
    /** Read it, or destroy it: an unread body holds its connection. */
    readonly body: Readable,
  ) {
    this.ok = status >= 200 && status < 300;
  }

  /** An answer whose body was read already (a streamed upload's answer, a test's fake). */
  static fromText(status: number, text: string, headers: IncomingHttpHeaders = {}, statusText = ''): HttpResponse {
    return new HttpResponse(status, statusText, headers, Readable.from(text === '' ? [] : [Buffer.from(text)]));
  }

  readonly headers = {
    /** A header's value (several joined with ', '), or null; names are case-insensitive. */
    get: (name: string): string | null => {
      const value = this.rawHeaders[name.toLowerCase()];
      if (value === undefined) return null;
      return Array.isArray(value) ? value.join(', ') : value;
    },
  };

  /** The whole body, read into memory: for small answers only. */
  async buffer(): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.body) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async text(): Promise<string> {
    return (await this.buffer()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text()) as unknown;
  }
}
