// Rows of the hostile-input suite: requests without a valid token, and a second user (alice)
// acting on root's things where ownership is checked today — bundles (edit, delete, kill, upload,
// write, netcat), worksheets (create onto, add, detach, delete) and the root-only users route —
// over raw HTTP and through bin/cl. Each is refused (401/403, or cl's one line) and changes nothing.
import { routes } from '../../src/protocol/index.js';
import { expectClRefusal, expectHttpRefusal, newDataset, type HostileContext } from './hostile-context.js';
import type { HostileCase, Outcome } from './hostile-table.js';
import { call } from './security-helpers.js';

type Case = HostileCase<HostileContext>;

/** A read of root's dataset with the given Authorization header value (none when null). */
function tokenRefused(attack: string, header: string | null, reason: RegExp): Case {
  return {
    family: 'token',
    attack,
    expected: '401 unauthorized',
    attempt: async (ctx): Promise<Outcome> => {
      const value = withRootToken(ctx, header);
      const headers: Record<string, string> = value === null ? {} : { authorization: value };
      const response = await fetch(`${ctx.url}${routes.bundle(ctx.root.data)}`, { headers });
      const answer = { status: response.status, headers: {}, body: (await response.json()) as unknown };
      return { result: expectHttpRefusal(answer, 401, 'unauthorized', reason) };
    },
  };
}

/** A login refused; from its own loopback address, so the limiter's count elsewhere is untouched. */
function loginRefused(attack: string, username: string, password: string, address: string): Case {
  return {
    family: 'token',
    attack,
    expected: '401 unauthorized',
    attempt: async (ctx): Promise<Outcome> => {
      const answer = await call(ctx.url, 'POST', routes.token(), { json: { grant_type: 'password', username, password }, localAddress: address });
      return { result: expectHttpRefusal(answer, 401, 'unauthorized', /Wrong user name or password/) };
    },
  };
}

/** Root's things are private to root: alice learns they are private, and nothing more. */
const ANOTHER = /is private: you have no permission on it/;

/** Alice's raw request against root's things, refused with 403 saying they are private. */
function aliceRefused(attack: string, method: string, path: (ctx: HostileContext) => string, json?: (ctx: HostileContext) => unknown, bytes?: Buffer, reason = ANOTHER): Case {
  return {
    family: 'ownership',
    attack: `alice: ${attack}`,
    expected: '403 forbidden',
    attempt: async (ctx): Promise<Outcome> => {
      const answer = await call(ctx.url, method, path(ctx), { token: ctx.alice.token, ...(json ? { json: json(ctx) } : {}), ...(bytes ? { bytes } : {}) });
      return { result: expectHttpRefusal(answer, 403, 'forbidden', reason) };
    },
  };
}

/** Alice's `cl ARGS` against root's things ({data}, {run} filled in), refused in one line. */
function aliceClRefused(args: string[], reason = ANOTHER): Case {
  return {
    family: 'ownership',
    attack: `alice: cl ${args.join(' ')}`,
    expected: 'cl exit 1, one line',
    attempt: async (ctx): Promise<Outcome> => {
      const filled = args.map((a) => a.replace('{data}', ctx.root.data).replace('{run}', ctx.root.run));
      return { result: expectClRefusal(await ctx.cluster.cl(filled, { env: ctx.alice.env }), reason) };
    },
  };
}

const dataset = { bundle_type: 'dataset', metadata: { name: 'planted' } };

export const accessCases: Case[] = [
  tokenRefused('no Authorization header', null, /no access token/),
  tokenRefused('a made-up bearer token', 'Bearer 0123456789abcdef0123456789abcdef', /Unknown access token/),
  tokenRefused('an empty bearer token', 'Bearer ', /access token/),
  tokenRefused('Basic auth with the root password', `Basic ${Buffer.from('codalab:e2e-root-password').toString('base64')}`, /access token/),
  tokenRefused('a token holding SQL', "Bearer ' OR '1'='1", /Unknown access token/),
  tokenRefused("root's token with a character changed", '{root-token-changed}', /Unknown access token/),
  loginRefused('login with a wrong password', 'codalab', 'wrong-password', '127.0.0.21'),
  loginRefused('login as a user that does not exist', 'nobody', 'x', '127.0.0.22'),
  loginRefused("login as \"codalab' --\"", "codalab' --", 'x', '127.0.0.23'),
  aliceRefused("edit of root's dataset", 'PATCH', (ctx) => routes.bundle(ctx.root.data), () => ({ metadata: { name: 'renamed' } })),
  aliceRefused("delete of root's dataset", 'POST', () => '/rest/bundles/delete', (ctx) => ({ uuids: [ctx.root.data], force: true })),
  aliceRefused("kill of root's running run", 'POST', () => routes.bundleActions(), (ctx) => ({ type: 'kill', uuid: ctx.root.run })),
  aliceRefused("write into root's running run", 'POST', () => routes.bundleActions(), (ctx) => ({ type: 'write', uuid: ctx.root.run, subpath: 'own/file', string: 'pwned' })),
  aliceRefused("netcat to root's running run", 'PUT', (ctx) => `/rest/bundles/${ctx.root.run}/netcat/8000`, undefined, Buffer.from('intruder')),
  aliceRefused("HTTP proxy to root's running run", 'GET', (ctx) => `/rest/bundles/${ctx.root.run}/netcurl/8080/x`),
  aliceRefused("dataset created on root's worksheet", 'POST', (ctx) => routes.createBundle(ctx.root.home), () => dataset, undefined, /Worksheet '.*' is private/),
  aliceRefused("run created on root's worksheet", 'POST', (ctx) => routes.createBundle(ctx.root.home), () => ({ bundle_type: 'run', command: 'echo planted', metadata: {}, dependencies: [] }), undefined, /Worksheet '.*' is private/),
  aliceRefused("markup added to root's worksheet", 'POST', (ctx) => `/rest/worksheets/${ctx.root.home}/items`, () => ({ type: 'markup', value: 'planted' })),
  aliceRefused("her bundle added to root's worksheet", 'POST', (ctx) => `/rest/worksheets/${ctx.root.home}/items`, (ctx) => ({ type: 'bundle', bundle_uuid: ctx.alice.data })),
  aliceRefused("root's dataset detached from his worksheet", 'DELETE', (ctx) => `/rest/worksheets/${ctx.root.home}/items/${ctx.root.data}`),
  aliceRefused("root's home worksheet deleted", 'DELETE', (ctx) => `/rest/worksheets/${ctx.root.home}?force=1`),
  aliceRefused('a worksheet named home-codalab2 (a home name)', 'POST', () => '/rest/worksheets', () => ({ name: 'home-codalab2' }), undefined, /'home-'/),
  aliceRefused('a user created through the root-only route', 'POST', () => '/rest/users', () => ({ user_name: 'mallory', password: 'mallory-password' }), undefined, /Only root may create users/),
  {
    family: 'ownership',
    attack: "alice: upload into root's new dataset",
    expected: '403 forbidden',
    prepare: (ctx) => newDataset(ctx, 'roots-empty'),
    attempt: async (ctx, uuid): Promise<Outcome> => {
      const answer = await call(ctx.url, 'PUT', routes.uploadContents(uuid, { unpack: false, filename: 'x.txt' }), { token: ctx.alice.token, bytes: Buffer.from('planted') });
      return { result: expectHttpRefusal(answer, 403, 'forbidden', ANOTHER) };
    },
  },
  aliceClRefused(['edit', '{data}', '-n', 'renamed']),
  aliceClRefused(['rm', '{data}']),
  aliceClRefused(['kill', '{run}']),
  aliceClRefused(['write', '{run}/own/file', 'pwned']),
  aliceClRefused(['netcat', '{run}', '8000', 'intruder']),
  aliceClRefused(['run', 'echo planted', '-w', 'home-codalab'], /Worksheet 'home-codalab' is private/),
  aliceClRefused(['upload', '-c', 'planted', '-w', 'home-codalab'], /Worksheet 'home-codalab' is private/),
];

/** Fills the one placeholder header that needs the live token. */
function withRootToken(ctx: HostileContext, header: string | null): string | null {
  if (header !== '{root-token-changed}') return header;
  const last = ctx.root.token.slice(-1) === 'a' ? 'b' : 'a';
  return `Bearer ${ctx.root.token.slice(0, -1)}${last}`;
}
