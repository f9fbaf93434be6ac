// Helpers of the security tests: users made through the root-only REST route, raw HTTP calls
// that keep the status and headers (a refusal is the point of these tests), and requests sent
// from a chosen loopback source address, so "another address" is a real one.
import { request } from 'node:http';
import { routes, type User } from '../../src/protocol/index.js';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: unknown;
}

/** One HTTP request with JSON in and out (or raw bytes in), from `localAddress` when given. */
export function call(
  baseUrl: string,
  method: string,
  path: string,
  options: { token?: string; json?: unknown; bytes?: Buffer; localAddress?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = {};
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let payload: Buffer | undefined;
  if (options.json !== undefined) {
    headers['content-type'] = 'application/json';
    payload = Buffer.from(JSON.stringify(options.json));
  } else if (options.bytes) {
    headers['content-type'] = 'application/octet-stream';
    payload = options.bytes;
  }
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}${path}`, { method, headers, ...(options.localAddress ? { localAddress: options.localAddress } : {}) }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: unknown = text;
        try {
          body = JSON.parse(text);
        } catch {
          // Not JSON (a raw answer): keep the text.
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(payload);
  });
}

export function errorOf(answer: Answer): { code: string; message: string } {
  return (answer.body as { error: { code: string; message: string } }).error;
}

/** An access token of `username`: a user session's, or with WORKER_CLIENT_ID a worker's (worker routes only). */
export async function login(baseUrl: string, username: string, password: string, clientId?: string): Promise<string> {
  const json = { grant_type: 'password', username, password, ...(clientId === undefined ? {} : { client_id: clientId }) };
  const answer = await call(baseUrl, 'POST', routes.token(), { json });
  if (answer.status !== 200) throw new Error(`login of ${username} failed: ${JSON.stringify(answer.body)}`);
  return (answer.body as { access_token: string }).access_token;
}

/** Creates a user through the root-only route and returns a token for it. */
export async function createUser(baseUrl: string, rootToken: string, name: string, password = `${name}-password`): Promise<{ user: User; token: string }> {
  const answer = await call(baseUrl, 'POST', '/rest/users', { token: rootToken, json: { user_name: name, password } });
  if (answer.status !== 200) throw new Error(`creating ${name} failed: ${JSON.stringify(answer.body)}`);
  return { user: answer.body as User, token: await login(baseUrl, name, password) };
}

export { checkinBody } from '../support/checkin-body.js';
