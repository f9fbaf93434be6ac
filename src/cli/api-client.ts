// The client's authenticated view of the REST API: every call carries a token, and a rejected
// cached token leads to one renewal (refresh token, else a fresh login) and one retry; so does a
// just-renewed token that expired before the server looked at it (a short lifetime, a busy
// server). Streamed request bodies cannot be replayed, so those calls get a token first and are
// never retried.
import { HttpClient, type RequestOptions } from '../common/http-client.js';
import type { HttpResponse } from '../common/http-response.js';
import type { z } from 'zod';
import { ACCESS_TOKEN_EXPIRED, ApiError } from '../protocol/index.js';
import type { TokenProvider } from './login.js';

export class ApiClient {
  private readonly http: HttpClient;

  constructor(
    readonly baseUrl: string,
    private readonly tokens: TokenProvider,
  ) {
    this.http = new HttpClient({ baseUrl });
  }

  async json<S extends z.ZodType>(path: string, schema: S, options: RequestOptions = {}): Promise<z.infer<S>> {
    return this.withToken(() => this.http.json(path, schema, options), options.body === undefined);
  }

  async send(path: string, options: RequestOptions = {}): Promise<HttpResponse> {
    return this.withToken(() => this.http.send(path, options), options.body === undefined);
  }

  private async withToken<T>(call: () => Promise<T>, canRetry: boolean): Promise<T> {
    const { token, fresh } = await this.tokens.token();
    this.http.token = token;
    try {
      return await call();
    } catch (error) {
      const expiredInFlight = error instanceof ApiError && error.message === ACCESS_TOKEN_EXPIRED;
      if (!(error instanceof ApiError) || error.code !== 'unauthorized' || (fresh && !expiredInFlight) || !canRetry) throw error;
      this.http.token = (await this.tokens.renew()).token;
      return call();
    }
  }
}
