// User accounts: creation (by root, or by anyone through sign-up when the server allows it),
// listing, lookup, deletion and password changes. Decides who may do what (root, or the user
// themselves); tokens are AuthService's, and a password change ends every session through it.
import { ApiError, ROOT_USER_NAME, type User, type UserAccount } from '../../protocol/index.js';
import type { Clock } from '../../common/clock.js';
import type { IdSource } from '../ids.js';
import type { NewUserRow, Store, UserHoldings, UserRow } from '../store/store.js';
import type { AuthService } from './auth-service.js';
import type { LoginLimiter } from './login-limiter.js';
import { checkNewAccount, checkNewPassword, hashPassword } from './passwords.js';

export interface SignupPolicy {
  /** `cl-server --allow-signup`. */
  readonly allowed: boolean;
  /** Each sign-up counts as a "failure" here, so one address gets a bounded number per window. */
  readonly limiter: LoginLimiter;
}

export class UserService {
  constructor(
    private readonly store: Store,
    private readonly clock: Clock,
    private readonly ids: IdSource,
    private readonly auth: AuthService,
    private readonly signup: SignupPolicy,
  ) {}

  get signupAllowed(): boolean {
    return this.signup.allowed;
  }

  async createUser(actor: User, userName: string, password: string, email?: string): Promise<UserAccount> {
    requireRoot(actor, 'create users');
    return toAccount(await this.insertUser(userName, password, email ?? null));
  }

  /** Self sign-up, without a token; `address` is the client's, for the rate limit. */
  async signUp(userName: string, password: string, address: string): Promise<User> {
    if (!this.signup.allowed) throw new ApiError('forbidden', 'Sign-up is off on this server; ask its administrator for an account.');
    try {
      this.signup.limiter.check('(sign-up)', address);
    } catch (error) {
      // The limiter speaks of failed logins; here every sign-up counts, so say so.
      if (!(error instanceof ApiError) || error.retryAfterSeconds === undefined) throw error;
      const wait = error.retryAfterSeconds;
      throw new ApiError('too_many_requests', `Too many sign-ups from ${address}: try again in ${wait} s.`, { retryAfterSeconds: wait });
    }
    this.signup.limiter.recordFailure('(sign-up)', address);
    const row = await this.insertUser(userName, password, null);
    return { id: row.id, user_name: row.user_name, is_root: row.is_root };
  }

  /**
   * Root's list of users. Keywords: words matched (case-insensitive) in the name or email, and
   * `.limit=N`, `.offset=N`.
   */
  async list(actor: User, keywords: readonly string[]): Promise<UserAccount[]> {
    requireRoot(actor, 'list users');
    let limit = Number.POSITIVE_INFINITY;
    let offset = 0;
    const words: string[] = [];
    for (const keyword of keywords) {
      const option = /^\.(limit|offset)=(\d+)$/.exec(keyword);
      if (option) {
        if (option[1] === 'limit') limit = Number(option[2]);
        else offset = Number(option[2]);
      } else if (keyword.startsWith('.')) {
        throw new ApiError('bad_request', `Unknown user keyword '${keyword}': use words, .limit=N or .offset=N.`);
      } else words.push(keyword.toLowerCase());
    }
    const matches = (await this.store.listUsers()).filter((u) =>
      words.every((w) => u.user_name.toLowerCase().includes(w) || (u.email ?? '').toLowerCase().includes(w)),
    );
    return matches.slice(offset, offset + limit).map(toAccount);
  }

  /** One account: root sees anyone's, others only their own. */
  async get(actor: User, userName: string): Promise<UserAccount> {
    if (!actor.is_root && actor.user_name !== userName) {
      throw new ApiError('forbidden', `Only root may see another user's account: you are '${actor.user_name}', not '${userName}'.`);
    }
    return toAccount(await this.findUser(userName));
  }

  /** Root deletes a user who owns nothing (empty worksheets go with them). */
  async delete(actor: User, userName: string): Promise<void> {
    requireRoot(actor, 'delete users');
    if (userName === ROOT_USER_NAME) throw new ApiError('bad_request', `The root user '${ROOT_USER_NAME}' cannot be deleted.`);
    const user = await this.findUser(userName);
    const holdings = await this.store.deleteUserIfOwnsNothing(user.id);
    const owned = describeHoldings(holdings);
    if (owned) {
      throw new ApiError('conflict', `User '${userName}' still owns ${owned}: delete them or give them away first.`);
    }
  }

  /**
   * A user changes their own password (with the old one); root resets anyone's (without). Either
   * way every token of that user is revoked, so other sessions must log in again.
   */
  async changePassword(actor: User, userName: string, oldPassword: string | undefined, newPassword: string, address: string): Promise<void> {
    const user = await this.findUserFor(actor, userName);
    const isOwn = actor.id === user.id;
    if (isOwn) {
      if (oldPassword === undefined) throw new ApiError('bad_request', 'Give your current password to change it.');
      await this.auth.checkPassword(user.user_name, oldPassword, address);
    }
    checkNewPassword(newPassword);
    await this.store.setUserPassword(user.id, await hashPassword(newPassword));
    await this.auth.revokeAllOf(user.id);
  }

  private async insertUser(userName: string, password: string, email: string | null): Promise<UserRow> {
    checkNewAccount(userName, password);
    if (await this.store.getUserByName(userName)) throw new ApiError('conflict', `User '${userName}' already exists.`);
    const row: NewUserRow = {
      id: this.ids.uuid(),
      user_name: userName,
      password_hash: await hashPassword(password),
      is_root: false,
      created: this.clock.now(),
      email,
      last_login: null,
    };
    await this.store.insertUser(row);
    return this.findUser(userName);
  }

  private async findUserFor(actor: User, userName: string): Promise<UserRow> {
    // A non-root user learns nothing about whether another account exists.
    if (!actor.is_root && actor.user_name !== userName) {
      throw new ApiError('forbidden', `Only root may change another user's password: you are '${actor.user_name}', not '${userName}'.`);
    }
    return this.findUser(userName);
  }

  private async findUser(userName: string): Promise<UserRow> {
    const user = await this.store.getUserByName(userName);
    if (!user) throw new ApiError('not_found', `No user named '${userName}'.`);
    return user;
  }
}

function requireRoot(actor: User, what: string): void {
  if (!actor.is_root) throw new ApiError('forbidden', `Only root may ${what}; you are '${actor.user_name}'.`);
}

/** The account fields root and the user themselves see. */
export function toAccount(row: UserRow): UserAccount {
  return {
    id: row.id,
    user_name: row.user_name,
    is_root: row.is_root,
    email: row.email,
    date_joined: row.created,
    last_login: row.last_login,
  };
}

/** "2 bundles and 1 worksheet", or '' when nothing. */
function describeHoldings(h: UserHoldings): string {
  const parts = [
    [h.bundles, 'bundle'],
    [h.worksheets, 'non-empty worksheet'],
    [h.workers, 'worker'],
    [h.groups, 'group'],
  ] as const;
  return parts
    .filter(([n]) => n > 0)
    .map(([n, what]) => `${n} ${what}${n === 1 ? '' : 's'}`)
    .join(', ');
}
