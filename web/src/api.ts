// The REST client of the web interface: the same routes and zod schemas as `cl` (src/protocol),
// a session token kept in sessionStorage, and one place where a 401 ends the session.
import type { z } from 'zod';
import { ErrorBody, RevokeRequest, TokenResponse, routes, type User } from '../../src/protocol/index.js';

const SESSION_KEY = 'codalab.session';

export interface Session {
  accessToken: string;
  refreshToken: string | null;
  user: User;
}

/** A refused or failed request, with the server's one-line message. */
export class RequestError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
    this.name = 'RequestError';
  }
}

let onSignedOut: () => void = () => undefined;

/** Called when the server refuses the token (401): the app shows the sign-in form again. */
export function setSignedOutHandler(handler: () => void): void {
  onSignedOut = handler;
}

export function loadSession(): Session | null {
  const text = sessionStorage.getItem(SESSION_KEY);
  if (text === null) return null;
  try {
    return JSON.parse(text) as Session;
  } catch {
    sessionStorage.removeItem(SESSION_KEY);
    return null;
  }
}

export async function signIn(username: string, password: string): Promise<Session> {
  const response = await fetch(routes.token(), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'password', username, password }),
  });
  if (!response.ok) throw await errorOf(response);
  const token = TokenResponse.parse(await response.json());
  const session: Session = { accessToken: token.access_token, refreshToken: token.refresh_token ?? null, user: token.user };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  return session;
}

/** Forgets the token here and ends the login on the server (best effort: leaving never fails). */
export async function signOut(): Promise<void> {
  const session = loadSession();
  sessionStorage.removeItem(SESSION_KEY);
  if (session?.refreshToken) {
    const body: RevokeRequest = { token: session.refreshToken };
    await fetch(routes.revoke(), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }).catch(() => undefined);
  }
}

/** A request with the session's token; throws RequestError for any answer but 2xx. */
export async function authorizedFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const session = loadSession();
  if (!session) {
    onSignedOut();
    throw new RequestError(401, 'Sign in first.');
  }
  const headers = new Headers(init.headers);
  headers.set('authorization', `Bearer ${session.accessToken}`);
  const response = await fetch(path, { ...init, headers });
  if (response.status === 401) {
    sessionStorage.removeItem(SESSION_KEY);
    onSignedOut();
  }
  if (!response.ok) throw await errorOf(response);
  return response;
}

/** The session's token for a request made without fetch (an upload with progress); signs out when there is none. */
export function requireToken(): string {
  const session = loadSession();
  if (session) return session.accessToken;
  onSignedOut();
  throw new RequestError(401, 'Sign in first.');
}

/** A 401 from a request made without fetch: the session ends as with authorizedFetch. */
export function refusedToken(): void {
  sessionStorage.removeItem(SESSION_KEY);
  onSignedOut();
}

/** Sends JSON with `method` (POST, PATCH), the answer checked against `schema`. */
export async function sendJson<T extends z.ZodType>(method: string, path: string, schema: T, body: unknown): Promise<z.infer<T>> {
  const response = await authorizedFetch(path, { method, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return schema.parse(await response.json());
}

/** GET or POST JSON, the answer checked against `schema`. */
export async function requestJson<T extends z.ZodType>(path: string, schema: T, body?: unknown): Promise<z.infer<T>> {
  const init: RequestInit =
    body === undefined ? {} : { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
  const response = await authorizedFetch(path, init);
  return schema.parse(await response.json());
}

/** The server's one-line message from an error body, or the text itself. */
export function messageOf(status: number, text: string): string {
  try {
    return ErrorBody.parse(JSON.parse(text)).error.message;
  } catch {
    return text.trim() || `The server answered ${status}.`;
  }
}

async function errorOf(response: Response): Promise<RequestError> {
  const text = await response.text().catch(() => '');
  try {
    return new RequestError(response.status, ErrorBody.parse(JSON.parse(text)).error.message);
  } catch {
    return new RequestError(response.status, text.trim() || `The server answered ${response.status} ${response.statusText}.`);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
