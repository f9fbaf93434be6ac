// Logins and bearer tokens. A password login yields a short-lived access token (authorises
// requests) and a long-lived refresh token (only buys new access tokens, OAuth2's
// grant_type=refresh_token). Tokens are random and stored only as SHA-256 hashes, with an expiry
// and their kind. Password guessing is throttled by a LoginLimiter before any password is checked.
// Tokens have an audience: a user session's (the default) or a worker's (client id
// codalab_worker_client); each is refused where the other belongs, and a refresh token only buys
// access tokens of its own audience. Knows nothing about HTTP (the client address comes in as a string).
import { createHash } from 'node:crypto';
import { ACCESS_TOKEN_EXPIRED, ApiError, ROOT_USER_NAME, WORKER_CLIENT_ID, passwordProblem, type TokenResponse, type User } from '../../protocol/index.js';
import type { Clock } from '../../common/clock.js';
import type { IdSource } from '../ids.js';
import type { NewUserRow, Store, TokenKind, UserRow } from '../store/store.js';
import type { LoginLimiter } from './login-limiter.js';
import { hashPassword, verifyPassword } from './passwords.js';

export const ACCOUNT_DISABLED = "Account disabled; ask the server's administrator.";

/** Whom a token is for: a user session, or a worker (worker routes only). */
export type TokenAudience = 'user' | 'worker';

export const USER_CLIENT_ID = 'codalab_cli_client';
export const WORKER_TOKEN_ON_USER_ROUTE = 'This is a worker token; it is accepted only on worker routes.';
export const USER_TOKEN_ON_WORKER_ROUTE = "Worker routes need a worker token: this is a user session's token.";

const KINDS: Record<TokenAudience, { access: TokenKind; refresh: TokenKind }> = {
  user: { access: 'access', refresh: 'refresh' },
  worker: { access: 'worker_access', refresh: 'worker_refresh' },
};

/** The audience a token request's client id asks for; an unknown client id is refused. */
export function audienceOf(clientId: string | undefined): TokenAudience {
  if (clientId === undefined || clientId === USER_CLIENT_ID) return 'user';
  if (clientId === WORKER_CLIENT_ID) return 'worker';
  throw new ApiError('bad_request', `Unknown client_id '${clientId}': use ${USER_CLIENT_ID} (user sessions) or ${WORKER_CLIENT_ID} (workers).`);
}

export interface TokenLifetimes {
  /** `--token-ttl-seconds`. */
  readonly accessSeconds: number;
  readonly refreshSeconds: number;
}

export class AuthService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly ids: IdSource,
    private readonly lifetimes: TokenLifetimes,
    private readonly limiter: LoginLimiter,
  ) {}

  /** Creates the root user on first start; returns true when it was created. */
  async ensureRootUser(password: string): Promise<boolean> {
    if (await this.store.getUserByName(ROOT_USER_NAME)) return false;
    const problem = passwordProblem(password);
    if (problem) throw new ApiError('bad_request', `The root password is ${problem}.`);
    await this.store.insertUser({
      id: '0',
      user_name: ROOT_USER_NAME,
      password_hash: await hashPassword(password),
      is_root: true,
      created: this.clock.now(),
      email: null,
      last_login: null,
    });
    return true;
  }

  /** `address` is where the attempt comes from, for the limits on failed logins. */
  async login(userName: string, password: string, address: string, audience: TokenAudience = 'user'): Promise<TokenResponse> {
    const user = await this.checkPassword(userName, password, address);
    const now = this.clock.now();
    await this.store.deleteTokensExpiredBefore(now);
    await this.store.setUserLastLogin(user.id, now);
    const refresh = this.ids.token();
    await this.store.insertToken(hashToken(refresh), user.id, now + this.lifetimes.refreshSeconds * 1000, KINDS[audience].refresh);
    return {
      ...(await this.issueAccessToken(user, audience)),
      refresh_token: refresh,
      refresh_expires_in: this.lifetimes.refreshSeconds,
    };
  }

  /**
   * The user named, when `password` is theirs; counts failures against the login limits. Also
   * used to check the old password of a password change.
   */
  async checkPassword(userName: string, password: string, address: string): Promise<UserRow> {
    this.limiter.check(userName, address);
    const user = await this.store.getUserByName(userName);
    if (!user || !(await verifyPassword(password, user.password_hash))) {
      this.limiter.recordFailure(userName, address);
      throw new ApiError('unauthorized', `Wrong user name or password for '${userName}'.`);
    }
    // Only after the password: a disabled account is not revealed to someone guessing.
    if (!user.is_active) throw new ApiError('forbidden', ACCOUNT_DISABLED);
    this.limiter.recordSuccess(userName, address);
    return user;
  }

  /** A new access token for a live refresh token (the refresh token itself is kept, not rotated). */
  async refresh(refreshToken: string, audience: TokenAudience = 'user'): Promise<TokenResponse> {
    const found = await this.store.getToken(hashToken(refreshToken));
    if (!found || found.kind !== KINDS[audience].refresh) {
      // A refresh token of the other audience is as good as unknown here: it buys nothing else.
      throw new ApiError('unauthorized', `Unknown or revoked ${audience === 'worker' ? 'worker ' : ''}refresh token: log in again.`);
    }
    if (found.expires_at <= this.clock.now()) throw new ApiError('unauthorized', 'Refresh token expired: log in again.');
    const [user] = await this.store.getUsersByIds([found.user_id]);
    if (!user) throw new ApiError('unauthorized', 'The user of this refresh token no longer exists.');
    if (!user.is_active) throw new ApiError('forbidden', ACCOUNT_DISABLED);
    return this.issueAccessToken(user, audience);
  }

  /** Ends a token of either kind (RFC 7009: an unknown token is not an error). */
  async revoke(token: string): Promise<void> {
    await this.store.deleteToken(hashToken(token));
  }

  /** Ends every session of the user: after a password change or reset. */
  async revokeAllOf(userId: string): Promise<void> {
    await this.store.deleteTokensOfUser(userId);
  }

  /**
   * The user an access token of `audience` belongs to; an unknown or expired token is an
   * `unauthorized` error, a token of the other audience `forbidden` (logging in again would not help).
   */
  async authenticate(token: string, audience: TokenAudience = 'user'): Promise<User> {
    const lookup = await this.store.getTokenWithUser(hashToken(token));
    const found = lookup?.token;
    if (!found || (found.kind !== 'access' && found.kind !== 'worker_access')) {
      throw new ApiError('unauthorized', 'Unknown access token: log in again.');
    }
    if (found.expires_at <= this.clock.now()) {
      throw new ApiError('unauthorized', ACCESS_TOKEN_EXPIRED);
    }
    if (found.kind !== KINDS[audience].access) {
      throw new ApiError('forbidden', audience === 'user' ? WORKER_TOKEN_ON_USER_ROUTE : USER_TOKEN_ON_WORKER_ROUTE);
    }
    const user = lookup.user;
    if (!user) throw new ApiError('unauthorized', 'The user of this access token no longer exists.');
    // Disabling deletes the user's tokens; this covers a token checked while that happens.
    if (!user.is_active) throw new ApiError('forbidden', ACCOUNT_DISABLED);
    return toUser(user);
  }

  private async issueAccessToken(user: UserRow, audience: TokenAudience): Promise<TokenResponse> {
    const token = this.ids.token();
    await this.store.insertToken(hashToken(token), user.id, this.clock.now() + this.lifetimes.accessSeconds * 1000, KINDS[audience].access);
    return { access_token: token, token_type: 'Bearer', expires_in: this.lifetimes.accessSeconds, user: toUser(user) };
  }
}

export function toUser(row: NewUserRow): User {
  return { id: row.id, user_name: row.user_name, is_root: row.is_root };
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}
