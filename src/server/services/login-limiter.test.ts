// The login limiter's rules on a controlled clock: the window slides, and a success forgives only
// the failures it answers, so logging in to one's own account buys no more guesses at another.
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../protocol/index.js';
import { LoginLimiter } from './login-limiter.js';

function setUp(): { limiter: LoginLimiter; clock: { at: number; now(): number } } {
  const clock = { at: 1_000_000, now(): number { return this.at; } };
  const limiter = new LoginLimiter({ windowSeconds: 10, maxFailuresPerAddress: 3, maxFailuresPerUser: 5 }, clock);
  return { limiter, clock };
}

function refusal(check: () => void): ApiError | null {
  try {
    check();
    return null;
  } catch (error) {
    if (error instanceof ApiError) return error;
    throw error;
  }
}

describe('LoginLimiter', () => {
  it('refuses an address at its limit until its oldest counted failure leaves the window', () => {
    const { limiter, clock } = setUp();
    for (const step of [0, 2_000, 4_000]) {
      clock.at = 1_000_000 + step;
      expect(refusal(() => limiter.check('root', 'a'))).toBeNull();
      limiter.recordFailure('root', 'a');
    }
    const refused = refusal(() => limiter.check('root', 'a'));
    expect(refused?.code).toBe('too_many_requests');
    expect(refused?.retryAfterSeconds).toBe(6);
    expect(refused?.message).toBe('Too many failed logins from a: try again in 6 s.');
    clock.at = 1_000_000 + 10_001;
    expect(refusal(() => limiter.check('root', 'a'))).toBeNull();
  });

  it("does not forgive guesses at another user when the address logs in to its own account", () => {
    const { limiter } = setUp();
    limiter.recordFailure('root', 'a');
    limiter.recordFailure('root', 'a');
    limiter.recordSuccess('mallory', 'a');
    limiter.recordFailure('root', 'a');
    expect(refusal(() => limiter.check('root', 'a'))?.code).toBe('too_many_requests');
  });

  it('forgives a typo once the right password comes from the same address', () => {
    const { limiter } = setUp();
    limiter.recordFailure('alice', 'a');
    limiter.recordFailure('alice', 'a');
    limiter.recordSuccess('alice', 'a');
    limiter.recordFailure('alice', 'a');
    limiter.recordFailure('alice', 'a');
    expect(refusal(() => limiter.check('alice', 'a'))).toBeNull();
  });

  it('over the per-user limit, refuses addresses that failed for that user and lets clean ones try', () => {
    const { limiter } = setUp();
    for (const address of ['a', 'a', 'b', 'b', 'c']) limiter.recordFailure('root', address);
    expect(refusal(() => limiter.check('root', 'c'))?.message).toContain("Too many failed logins for 'root'");
    expect(refusal(() => limiter.check('root', 'd'))).toBeNull();
    expect(refusal(() => limiter.check('alice', 'c'))).toBeNull();
  });
});
