// Tokens for one instance: reuse the cached access token until shortly before it expires, then
// trade the cached refresh token for a new one (OAuth2 refresh_token grant), and only when that
// fails log in with the password grant and cache the result. Where credentials come from (local
// root password, environment, terminal prompt) is decided by the `Credentials` callback the
// session passes in.
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

  /** A token believed valid: the cached one (`fresh` false), or a renewed one. */
  async token(): Promise<{ token: string; fresh: boolean }> {
    if (this.cached && this.cached.expires_at - EXPIRY_MARGIN_MS > this.now()) {
      return { token: this.cached.token, fresh: false };
    }
    return { token: (await this.renew()).token, fresh: true };
  }

  async user(): Promise<User> {
    await this.token();
    if (!this.cached) throw new Error('Logged in without a cached token.');
    return this.cached.user;
  }

  /** The refresh token of this login, if any (for `cl logout` to revoke). */
  refreshToken(): string | undefined {
    return this.cached?.refresh_token;
  }

  /** A new access token: from the refresh token while it works, else from a password login. */
  async renew(): Promise<CachedToken> {
    const previous = this.cached;
    if (previous?.refresh_token !== undefined && (previous.refresh_expires_at ?? Infinity) > this.now()) {
      const refreshed = await this.tryRefresh(previous, previous.refresh_token);
      if (refreshed) return refreshed;
    }
    return this.login();
  }

  /** Logs in with credentials, replacing whatever token was cached. */
  async login(): Promise<CachedToken> {
    this.cached = undefined;
    return this.loginWith(await this.credentials());
  }

  /** Logs in with these credentials (a new password, a new account), replacing the cached token. */
  async loginWith(credentials: Credentials): Promise<CachedToken> {
    this.cached = undefined;
    const request: TokenRequest = { grant_type: 'password', ...credentials };
    let response: TokenResponse;
    try {
      response = await this.http().json(routes.token(), TokenResponse, { method: 'POST', json: request });
    } catch (error) {
      // Refused logins, including too many failed ones (the message says when to try again), are the user's to act on.
      if (error instanceof ApiError && ['unauthorized', 'forbidden', 'too_many_requests'].includes(error.code)) {
        throw new UserInputError(
          `Cannot log in to ${this.baseUrl} as '${credentials.username}': ${error.message.replace(/\.$/, '')}.`,
        );
      }
      throw error;
    }
    return this.save(response, undefined);
  }

  /** The refreshed token, or undefined when the server refused the refresh token (expired, revoked). */
  private async tryRefresh(previous: CachedToken, refreshToken: string): Promise<CachedToken | undefined> {
    const request: TokenRequest = { grant_type: 'refresh_token', refresh_token: refreshToken };
    try {
      const response = await this.http().json(routes.token(), TokenResponse, { method: 'POST', json: request });
      return this.save(response, previous);
    } catch (error) {
      // Older servers answer 400 to a grant they do not know; either way, a password login is next.
      if (error instanceof ApiError && ['unauthorized', 'bad_request'].includes(error.code)) return undefined;
      throw error;
    }
  }

  private save(response: TokenResponse, previous: CachedToken | undefined): CachedToken {
    const now = this.now();
    const refresh = response.refresh_token ?? previous?.refresh_token;
    const refreshExpiresAt =
      response.refresh_token !== undefined
        ? response.refresh_expires_in !== undefined ? now + response.refresh_expires_in * 1000 : undefined
        : previous?.refresh_expires_at;
    const token: CachedToken = {
      token: response.access_token,
      expires_at: now + response.expires_in * 1000,
      ...(refresh !== undefined ? { refresh_token: refresh } : {}),
      ...(refreshExpiresAt !== undefined ? { refresh_expires_at: refreshExpiresAt } : {}),
      user: response.user,
    };
    this.cached = token;
    this.state.saveToken(this.instance, token);
    return token;
  }

  private http(): HttpClient {
    return new HttpClient({ baseUrl: this.baseUrl });
  }
}
