// Tokens for one instance: reuse the cached one until shortly before it expires, otherwise log in
// with the password grant and cache the result. Where credentials come from (local root password,
// environment, terminal prompt) is decided by the `Credentials` callback the session passes in.
import { HttpClient } from '../common/http-client.js';
import { UserInputError } from '../common/user-input-error.js';
import { ApiError, routes, TokenResponse, type TokenRequest, type User } from '../protocol/index.js';
import type { CachedToken, StateStore } from './state-store.js';

/** Renew tokens this long before they expire, so a request never races the expiry. */
const EXPIRY_MARGIN_MS = 30_000;

export interface Credentials {
  username: string;
  password: string;
}

export type CredentialSource = () => Promise<Credentials>;

export class TokenProvider {
  private cached: CachedToken | undefined;

  constructor(
    private readonly instance: string,
    private readonly baseUrl: string,
    private readonly state: StateStore,
    private readonly credentials: CredentialSource,
    private readonly now: () => number = Date.now,
  ) {
    this.cached = state.token(instance);
  }

  /** A token believed valid: the cached one (`fresh` false), or one from a new login. */
  async token(): Promise<{ token: string; fresh: boolean }> {
    if (this.cached && this.cached.expires_at - EXPIRY_MARGIN_MS > this.now()) {
      return { token: this.cached.token, fresh: false };
    }
    return { token: (await this.login()).token, fresh: true };
  }

  async user(): Promise<User> {
    await this.token();
    if (!this.cached) throw new Error('Logged in without a cached token.');
    return this.cached.user;
  }

  /** Logs in with credentials, replacing whatever token was cached. */
  async login(): Promise<CachedToken> {
    this.cached = undefined;
    const credentials = await this.credentials();
    const http = new HttpClient({ baseUrl: this.baseUrl });
    const request: TokenRequest = { grant_type: 'password', ...credentials };
    let response: TokenResponse;
    try {
      response = await http.json(routes.token(), TokenResponse, { method: 'POST', json: request });
    } catch (error) {
      // Refused logins, including too many failed ones (the message says when to try again), are the user's to act on.
      if (error instanceof ApiError && ['unauthorized', 'forbidden', 'too_many_requests'].includes(error.code)) {
        throw new UserInputError(
          `Cannot log in to ${this.baseUrl} as '${credentials.username}': ${error.message.replace(/\.$/, '')}.`,
        );
      }
      throw error;
    }
    const token: CachedToken = {
      token: response.access_token,
      expires_at: this.now() + response.expires_in * 1000,
      user: response.user,
    };
    this.cached = token;
    this.state.saveToken(this.instance, token);
    return token;
  }
}
