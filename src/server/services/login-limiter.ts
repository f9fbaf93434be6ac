// Throttles password guessing: failed logins are counted in a sliding window per client address
// and per user name (in memory; time from the injected Clock). It decides only whether an attempt
// may go on to the password check; it never sees passwords.
//
// Two limits, chosen so that one hostile address cannot lock a user (root above all) out:
// - per address (low): an address over it is refused for every user, even with the right
//   password, until its failures age out of the window;
// - per user (higher): a user over it is refused only from addresses that failed against that
//   user in the window. A clean address, such as the real owner's, still gets its password
//   checked, so many addresses together get at most one guess each per window once it is reached.
// A successful login clears the failures that address made against that user (a typo, then the
// right password), not its failures against others, so logging in to one's own account does not
// buy more guesses at root's.
import { ApiError } from '../../protocol/index.js';
import type { Clock } from '../../common/clock.js';

export interface LoginLimits {
  /** Length of the sliding window, in seconds. */
  readonly windowSeconds: number;
  /** Failures from one address (against any users) before it is refused. */
  readonly maxFailuresPerAddress: number;
  /** Failures against one user name (from any addresses) before addresses that failed are refused. */
  readonly maxFailuresPerUser: number;
}

export const DEFAULT_LOGIN_LIMITS: LoginLimits = Object.freeze({
  windowSeconds: 300,
  maxFailuresPerAddress: 10,
  maxFailuresPerUser: 100,
});

interface Failure {
  at: number;
  user: string;
  address: string;
}

/** Beyond this many tracked addresses or user names, the stalest are forgotten (memory stays bounded). */
const MAX_KEYS = 50_000;

export class LoginLimiter {
  private readonly byAddress = new Map<string, Failure[]>();
  private readonly byUser = new Map<string, Failure[]>();

  constructor(
    private readonly limits: LoginLimits,
    private readonly clock: Clock,
  ) {}

  /** Throws `too_many_requests` (with when to try again) if this attempt may not be checked now. */
  check(user: string, address: string): void {
    const now = this.clock.now();
    const windowMs = this.limits.windowSeconds * 1000;
    const fromAddress = this.recent(this.byAddress, address, now);
    if (fromAddress.length >= this.limits.maxFailuresPerAddress) {
      const until = (fromAddress[fromAddress.length - this.limits.maxFailuresPerAddress] as Failure).at + windowMs;
      throw tooMany(`Too many failed logins from ${address}`, until - now);
    }
    const againstUser = this.recent(this.byUser, user, now);
    const ownTries = fromAddress.filter((f) => f.user === user);
    const lastOwn = ownTries[ownTries.length - 1];
    if (againstUser.length >= this.limits.maxFailuresPerUser && lastOwn) {
      const userFreed = (againstUser[againstUser.length - this.limits.maxFailuresPerUser] as Failure).at + windowMs;
      throw tooMany(`Too many failed logins for '${user}'`, Math.min(userFreed, lastOwn.at + windowMs) - now);
    }
  }

  recordFailure(user: string, address: string): void {
    const failure: Failure = { at: this.clock.now(), user, address };
    push(this.byAddress, address, failure);
    push(this.byUser, user, failure);
  }

  /** The right password: this address's failures against this user are forgiven. */
  recordSuccess(user: string, address: string): void {
    const kept = (this.byAddress.get(address) ?? []).filter((f) => f.user !== user);
    if (kept.length > 0) this.byAddress.set(address, kept);
    else this.byAddress.delete(address);
  }

  /** Failures of `key` still inside the window, oldest first; expired ones are dropped. */
  private recent(map: Map<string, Failure[]>, key: string, now: number): Failure[] {
    const list = map.get(key);
    if (!list) return [];
    const since = now - this.limits.windowSeconds * 1000;
    const kept = list.filter((f) => f.at > since);
    if (kept.length > 0) map.set(key, kept);
    else map.delete(key);
    return kept;
  }
}

function push(map: Map<string, Failure[]>, key: string, failure: Failure): void {
  const list = map.get(key);
  if (list) list.push(failure);
  else {
    // Maps keep insertion order: the first key is the one tracked longest.
    if (map.size >= MAX_KEYS) map.delete(map.keys().next().value as string);
    map.set(key, [failure]);
  }
}

function tooMany(what: string, waitMs: number): ApiError {
  const seconds = Math.max(1, Math.ceil(waitMs / 1000));
  return new ApiError('too_many_requests', `${what}: try again in ${seconds} s.`, { retryAfterSeconds: seconds });
}
