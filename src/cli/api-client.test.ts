import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ACCESS_TOKEN_EXPIRED, User } from '../protocol/index.js';
import { ApiClient } from './api-client.js';
import { TokenProvider } from './login.js';
import { StateStore } from './state-store.js';

// The far side of the network: a server that issues tokens and can be told to forget them.
let server: Server;
let baseUrl: string;
const valid = new Set<string>();
let logins = 0;
/** When set, the next token issued is refused as expired on its first use (it ran out in flight). */
let expireNextInFlight = false;
const expiring = new Set<string>();

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.url === '/rest/oauth2/token') {
        const { password } = JSON.parse(body) as { password: string };
        if (password !== 'right') {
          res.statusCode = 401;
          res.end(JSON.stringify({ error: { code: 'unauthorized', message: 'Wrong user name or password.' } }));
          return;
        }
        logins += 1;
        const token = `t${logins}`;
        valid.add(token);
        if (expireNextInFlight) expiring.add(token);
        expireNextInFlight = false;
        const user = { id: '0', user_name: 'codalab', is_root: true };
        res.end(JSON.stringify({ access_token: token, token_type: 'Bearer', expires_in: 3600, user }));
        return;
      }
      const token = (req.headers.authorization ?? '').replace('Bearer ', '');
      if (expiring.delete(token)) {
        valid.delete(token);
        res.statusCode = 401;
        res.end(JSON.stringify({ error: { code: 'unauthorized', message: ACCESS_TOKEN_EXPIRED } }));
        return;
      }
      if (!valid.has(token) || req.url === '/rest/refused') {
        res.statusCode = 401;
        res.end(JSON.stringify({ error: { code: 'unauthorized', message: 'Token rejected.' } }));
        return;
      }
      res.end(JSON.stringify({ id: '0', user_name: 'codalab', is_root: true }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

function client(password: string, now: () => number = Date.now): { api: ApiClient; state: StateStore } {
  const state = new StateStore(mkdtempSync(join(tmpdir(), 'cl-api-')));
  const tokens = new TokenProvider(baseUrl, baseUrl, state, async () => ({ username: 'codalab', password }), now);
  return { api: new ApiClient(baseUrl, tokens), state };
}

describe('ApiClient', () => {
  it('logs in once and caches the token in the state file', async () => {
    const { api, state } = client('right');
    const before = logins;
    await api.json('/rest/user', User);
    await api.json('/rest/user', User);
    expect(logins - before).toBe(1);
    expect(valid.has(state.token(baseUrl)?.token ?? '')).toBe(true);
  });

  it('logs in again when the cached token was rejected, and retries once', async () => {
    const { api, state } = client('right');
    await api.json('/rest/user', User);
    valid.delete(state.token(baseUrl)?.token ?? '');
    const before = logins;
    await expect(api.json('/rest/user', User)).resolves.toMatchObject({ user_name: 'codalab' });
    expect(logins - before).toBe(1);
  });

  it('logs in again, once, when a just-issued token expired before the server looked at it', async () => {
    const { api } = client('right');
    expireNextInFlight = true;
    const before = logins;
    await expect(api.json('/rest/user', User)).resolves.toMatchObject({ user_name: 'codalab' });
    expect(logins - before).toBe(2);
  });

  it('does not log in again when a just-issued token is refused for another reason', async () => {
    const { api } = client('right');
    const before = logins;
    await expect(api.json('/rest/refused', User)).rejects.toThrow(/Token rejected/);
    expect(logins - before).toBe(1);
  });

  it('logs in again when the cached token has expired', async () => {
    let now = Date.now();
    const { api } = client('right', () => now);
    await api.json('/rest/user', User);
    now += 2 * 3600 * 1000;
    const before = logins;
    await api.json('/rest/user', User);
    expect(logins - before).toBe(1);
  });

  it('reports a wrong password in one line naming the server and user', async () => {
    const { api } = client('wrong');
    await expect(api.json('/rest/user', User)).rejects.toThrow(
      `Cannot log in to ${baseUrl} as 'codalab': Wrong user name or password.`,
    );
  });
});
