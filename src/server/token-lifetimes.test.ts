// Access and refresh tokens over real HTTP against a real server and SQLite, with a fake clock
// (named so below) standing in for hours and days: each kind of token is honoured until its own
// lifetime ends, is good only for its own purpose, and revocation takes effect at once. Also the
// limit on sign-ups from one address.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { HttpClient } from '../common/http-client.js';
import { ApiError, routes, TokenResponse, User } from '../protocol/index.js';
import { FakeClock } from '../../test/support/fake-clock.js';
import { startTestServer, type TestServer } from './test-server.js';

const ACCESS_SECONDS = 60;
const REFRESH_SECONDS = 3600;
let ts: TestServer;
let clock: FakeClock;
let anonymous: HttpClient;

beforeEach(async () => {
  clock = new FakeClock();
  ts = await startTestServer({ tokenTtlSeconds: ACCESS_SECONDS, refreshTokenTtlSeconds: REFRESH_SECONDS }, { clock });
  anonymous = new HttpClient({ baseUrl: ts.server.url });
});

afterEach(async () => {
  await ts.stop();
});

function login(): Promise<TokenResponse> {
  return anonymous.json(routes.token(), TokenResponse, { json: { grant_type: 'password', username: 'codalab', password: 'secret-root' } });
}

function refresh(token: string | undefined): Promise<TokenResponse> {
  return anonymous.json(routes.token(), TokenResponse, { json: { grant_type: 'refresh_token', refresh_token: token } });
}

async function whoAmI(token: string): Promise<string> {
  return (await new HttpClient({ baseUrl: ts.server.url, token }).json(routes.user(), User)).user_name;
}

async function refusal(call: Promise<unknown>): Promise<string> {
  const error = await call.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(ApiError);
  expect((error as ApiError).code).toBe('unauthorized');
  return (error as ApiError).message;
}

describe('token lifetimes (fake clock)', () => {
  it('honours each token until its own lifetime ends', async () => {
    const first = await login();
    expect(first).toMatchObject({ expires_in: ACCESS_SECONDS, refresh_expires_in: REFRESH_SECONDS });
    clock.advance(ACCESS_SECONDS * 1000);
    expect(await refusal(whoAmI(first.access_token))).toMatch(/Access token expired/);
    const renewed = await refresh(first.refresh_token);
    expect(renewed.refresh_token).toBeUndefined();
    expect(await whoAmI(renewed.access_token)).toBe('codalab');
    clock.advance(REFRESH_SECONDS * 1000);
    expect(await refusal(refresh(first.refresh_token))).toMatch(/Refresh token expired/);
  });

  it('keeps each kind to its purpose', async () => {
    const tokens = await login();
    expect(await refusal(whoAmI(tokens.refresh_token ?? ''))).toMatch(/Unknown access token/);
    expect(await refusal(refresh(tokens.access_token))).toMatch(/Unknown or revoked refresh token/);
  });

  it('revokes at once, and answers an unknown token like a known one (RFC 7009)', async () => {
    const tokens = await login();
    await anonymous.json(routes.revoke(), z.object({}), { json: { token: tokens.refresh_token } });
    await anonymous.json(routes.revoke(), z.object({}), { json: { token: 'never-issued' } });
    expect(await refusal(refresh(tokens.refresh_token))).toMatch(/revoked/);
    expect(await whoAmI(tokens.access_token)).toBe('codalab');
  });
});

describe('sign-up', () => {
  it('is limited per client address, like failed logins', async () => {
    const open = await startTestServer({ allowSignup: true });
    try {
      const client = new HttpClient({ baseUrl: open.server.url });
      const signUp = (name: string): Promise<User> => client.json(routes.signup(), User, { json: { user_name: name, password: 'password-1' } });
      for (let i = 0; i < 10; i += 1) expect(await signUp(`user${i}`)).toMatchObject({ user_name: `user${i}`, is_root: false });
      const error = await signUp('one-too-many').then(() => undefined, (e: unknown) => e);
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).code).toBe('too_many_requests');
      expect((error as ApiError).message).toMatch(/Too many sign-ups from .*: try again in \d+ s/);
    } finally {
      await open.stop();
    }
  });
});
