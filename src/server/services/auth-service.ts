// Users, passwords and bearer tokens. Passwords are scrypt hashes; tokens are random and stored
// only as SHA-256 hashes, with an expiry. Password guessing is throttled by a LoginLimiter before
// any password is checked. Knows nothing about HTTP (the client address comes in as a string).
import { createHash, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { promisify } from 'node:util';
import { ApiError, ROOT_USER_NAME, passwordProblem, type TokenResponse, type User } from '../../protocol/index.js';
import type { Clock } from '../../common/clock.js';
import type { IdSource } from '../ids.js';
import type { NewUserRow, Store } from '../store/store.js';
import type { LoginLimiter } from './login-limiter.js';

const scryptAsync = promisify(scrypt) as (password: string, salt: Buffer, keylen: number) => Promise<Buffer>;
export const ACCOUNT_DISABLED = "Account disabled; ask the server's administrator.";
const USER_NAME = /^[a-zA-Z0-9_.-]{1,64}$/;

export class AuthService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly ids: IdSource,
    private readonly tokenTtlSeconds: number,
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
    });
    return true;
  }

  async createUser(userName: string, password: string): Promise<User> {
    if (!USER_NAME.test(userName)) {
      throw new ApiError('bad_request', `Invalid user name '${userName}': use letters, digits, '_', '.' and '-'.`);
    }
    const problem = passwordProblem(password);
    if (problem) throw new ApiError('bad_request', `Password ${problem}.`);
    if (await this.store.getUserByName(userName)) throw new ApiError('conflict', `User '${userName}' already exists.`);
    const row: NewUserRow = {
      id: this.ids.uuid(),
      user_name: userName,
      password_hash: await hashPassword(password),
      is_root: false,
      created: this.clock.now(),
    };
    await this.store.insertUser(row);
    return toUser(row);
  }

  /** `address` is where the attempt comes from, for the limits on failed logins. */
  async login(userName: string, password: string, address: string): Promise<TokenResponse> {
    this.limiter.check(userName, address);
    const user = await this.store.getUserByName(userName);
    if (!user || !(await verifyPassword(password, user.password_hash))) {
      this.limiter.recordFailure(userName, address);
      throw new ApiError('unauthorized', `Wrong user name or password for '${userName}'.`);
    }
    // Only after the password: a disabled account is not revealed to someone guessing.
    if (!user.is_active) throw new ApiError('forbidden', ACCOUNT_DISABLED);
    this.limiter.recordSuccess(userName, address);
    const token = this.ids.token();
    const now = this.clock.now();
    await this.store.deleteTokensExpiredBefore(now);
    await this.store.insertToken(hashToken(token), user.id, now + this.tokenTtlSeconds * 1000);
    return { access_token: token, token_type: 'Bearer', expires_in: this.tokenTtlSeconds, user: toUser(user) };
  }

  /** The user a bearer token belongs to; an unknown or expired token is an `unauthorized` error. */
  async authenticate(token: string): Promise<User> {
    const found = await this.store.getToken(hashToken(token));
    if (!found) throw new ApiError('unauthorized', 'Unknown access token: log in again.');
    if (found.expires_at <= this.clock.now()) {
      throw new ApiError('unauthorized', 'Access token expired: log in again.');
    }
    const [user] = await this.store.getUsersByIds([found.user_id]);
    if (!user) throw new ApiError('unauthorized', 'The user of this access token no longer exists.');
    // Disabling deletes the user's tokens; this covers a token checked while that happens.
    if (!user.is_active) throw new ApiError('forbidden', ACCOUNT_DISABLED);
    return toUser(user);
  }
}

function toUser(row: NewUserRow): User {
  return { id: row.id, user_name: row.user_name, is_root: row.is_root };
}

function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, 32);
  return `scrypt:${salt.toString('hex')}:${key.toString('hex')}`;
}

async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, saltHex, keyHex] = stored.split(':');
  if (scheme !== 'scrypt' || !saltHex || !keyHex) return false;
  const expected = Buffer.from(keyHex, 'hex');
  const actual = await scryptAsync(password, Buffer.from(saltHex, 'hex'), expected.length);
  return timingSafeEqual(actual, expected);
}
