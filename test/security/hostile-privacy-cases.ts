// Rows of the hostile-input suite about privacy: alice against root's private bundles, worksheet
// and group (by uuid, prefix, name, search, listing, as a dependency, and by sharing or taking
// them), and tokens that were revoked or are of the wrong kind. Each is refused, or answers
// without a trace of root's things, and changes nothing.
import { expect } from 'vitest';
import { groupRoutes, routes } from '../../src/protocol/index.js';
import { expectClRefusal, expectHttpRefusal, type HostileContext } from './hostile-context.js';
import type { HostileCase, Outcome } from './hostile-table.js';
import { call } from './security-helpers.js';

type Case = HostileCase<HostileContext>;

const PRIVATE = /is private: you have no permission on it/;
const ROOT_GROUP = 'roots-group';

function fill(args: string[], ctx: HostileContext): string[] {
  return args.map((a) =>
    a.replace('{data}', ctx.root.data).replace('{prefix}', ctx.root.data.slice(0, 12)).replace('{run}', ctx.root.run).replace('{alice-data}', ctx.alice.data).replace('{out}', `${ctx.cluster.root}/alice-download`),
  );
}

function aliceCl(args: string[], reason: RegExp): Case {
  return {
    family: 'privacy',
    attack: `alice: cl ${args.join(' ')}`,
    expected: 'cl exit 1, one line',
    attempt: async (ctx): Promise<Outcome> => ({ result: expectClRefusal(await ctx.cluster.cl(fill(args, ctx), { env: ctx.alice.env }), reason) }),
  };
}

/** A command that succeeds for alice but must show nothing of root's. */
function aliceSeesNothing(args: string[], expected: string): Case {
  return {
    family: 'privacy',
    attack: `alice: cl ${args.join(' ')}`,
    expected,
    attempt: async (ctx): Promise<Outcome> => {
      const result = await ctx.cluster.cl(fill(args, ctx), { env: ctx.alice.env });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim()).toBe(expected);
      expect(`${result.stdout}${result.stderr}`).not.toMatch(new RegExp(`${ctx.root.data.slice(2, 12)}|root-data|root-live`));
      return { result: `exit 0: ${expected}` };
    },
  };
}

function aliceHttp(attack: string, method: string, path: (ctx: HostileContext) => string, json?: (ctx: HostileContext) => unknown): Case {
  return {
    family: 'privacy',
    attack: `alice: ${attack}`,
    expected: '403 forbidden, private',
    attempt: async (ctx): Promise<Outcome> => {
      const answer = await call(ctx.url, method, path(ctx), { token: ctx.alice.token, ...(json ? { json: json(ctx) } : {}) });
      expect(JSON.stringify(answer.body)).not.toMatch(/root-data|inside the bundle/);
      return { result: expectHttpRefusal(answer, 403, 'forbidden', PRIVATE) };
    },
  };
}

/** A token refused with 401; `token` is made in `prepare`, before the snapshot. */
function tokenRefused(attack: string, make: (ctx: HostileContext) => Promise<string>, use: 'bearer' | 'refresh', reason: RegExp): Case {
  return {
    family: 'token',
    attack,
    expected: '401 unauthorized',
    prepare: make,
    attempt: async (ctx, token): Promise<Outcome> => {
      const answer =
        use === 'bearer'
          ? await call(ctx.url, 'GET', routes.homeWorksheet(), { token })
          : await call(ctx.url, 'POST', routes.token(), { json: { grant_type: 'refresh_token', refresh_token: token } });
      return { result: expectHttpRefusal(answer, 401, 'unauthorized', reason) };
    },
  };
}

async function aliceLogin(ctx: HostileContext): Promise<{ access_token: string; refresh_token: string }> {
  const answer = await call(ctx.url, 'POST', routes.token(), { json: { grant_type: 'password', username: 'alice', password: 'alice-password' } });
  expect(answer.status).toBe(200);
  return answer.body as { access_token: string; refresh_token: string };
}

/** Root's group, made once (the first case that needs it) and before that case's snapshot. */
async function rootGroup(ctx: HostileContext): Promise<string> {
  const existing = await call(ctx.url, 'GET', groupRoutes.group(ROOT_GROUP), { token: ctx.root.token });
  if (existing.status !== 200) {
    const made = await call(ctx.url, 'POST', groupRoutes.groups(), { token: ctx.root.token, json: { name: ROOT_GROUP } });
    expect(made.status, JSON.stringify(made.body)).toBe(200);
  }
  return ROOT_GROUP;
}

function aliceOnRootGroup(args: string[], reason: RegExp): Case {
  return { ...aliceCl(args, reason), prepare: rootGroup };
}

export const privacyCases: Case[] = [
  aliceCl(['info', '{data}'], PRIVATE),
  aliceCl(['cat', '{data}/a.txt'], PRIVATE),
  aliceCl(['download', '{data}', '-o', '{out}'], PRIVATE),
  aliceCl(['info', '{prefix}'], /No bundle with a uuid starting with/),
  aliceCl(['info', 'root-data'], /No bundle named 'root-data'/),
  aliceSeesNothing(['search', 'root-data', '-u'], ''),
  aliceSeesNothing(['search', 'owner=codalab', '.count'], '0'),
  aliceSeesNothing(['search', '=root-data', '-u'], ''),
  aliceCl(['ls', '-w', 'home-codalab'], /Worksheet 'home-codalab' is private/),
  aliceCl(['print', 'home-codalab'], /Worksheet 'home-codalab' is private/),
  aliceCl(['info', '^1', '-w', 'home-codalab'], /Worksheet 'home-codalab' is private/),
  aliceCl(['run', 'd:{data}', 'cat d/a.txt'], /which is private: a run may only depend on bundles its owner can read/),
  aliceCl(['make', 'd:{data}'], /which is private: a run may only depend on bundles its owner can read/),
  aliceCl(['add', 'bundle', '{data}'], PRIVATE),
  aliceCl(['perm', '{data}', 'public', 'read'], PRIVATE),
  aliceCl(['wperm', 'home-codalab', 'public', 'read'], /Worksheet 'home-codalab' is private/),
  aliceCl(['chown', 'alice', '{data}'], /Only root may change the owner of bundles/),
  aliceCl(['chown', 'alice', '{alice-data}'], /Only root may change the owner of bundles/),
  aliceCl(['wait', '{run}'], PRIVATE),
  aliceHttp("root's bundle contents by uuid", 'GET', (ctx) => routes.contentsBlob(ctx.root.data, 'a.txt')),
  aliceHttp("root's running run's live output", 'GET', (ctx) => `/rest/bundles/${ctx.root.run}/follow`),
  aliceHttp("root's running run's live file", 'GET', (ctx) => routes.contentsBlob(ctx.root.run, 'own/file')),
  aliceHttp("root's bundle's verbose info (host worksheets, grants)", 'GET', (ctx) => `/rest/bundles/${ctx.root.data}/verbose-info`),
  aliceHttp("root's bundle's children", 'GET', (ctx) => `/rest/bundles/${ctx.root.data}/children`),
  aliceHttp("root's worksheet contents by uuid", 'GET', (ctx) => routes.worksheetContents(ctx.root.home)),
  aliceOnRootGroup(['uadd', 'alice', ROOT_GROUP], /only its admins may/),
  aliceOnRootGroup(['ginfo', ROOT_GROUP], /You are not a member of group 'roots-group'/),
  aliceOnRootGroup(['grm', ROOT_GROUP], /Only the owner of group 'roots-group' or root may delete it/),
  aliceOnRootGroup(['urm', 'codalab', ROOT_GROUP], /only its admins may/),
  aliceCl(['uadd', 'alice', 'public'], /every user is in it/),
  aliceCl(['gnew', 'public'], /A group named 'public' already exists/),
  tokenRefused('a revoked refresh token', async (ctx) => {
    const { refresh_token } = await aliceLogin(ctx);
    expect((await call(ctx.url, 'POST', routes.revoke(), { json: { token: refresh_token } })).status).toBe(200);
    return refresh_token;
  }, 'refresh', /Unknown or revoked refresh token/),
  tokenRefused('a refresh token sent as an access token', async (ctx) => (await aliceLogin(ctx)).refresh_token, 'bearer', /Unknown access token/),
  tokenRefused('an access token sent as a refresh token', async (ctx) => (await aliceLogin(ctx)).access_token, 'refresh', /Unknown or revoked refresh token/),
];
