// Rows of the hostile-input suite: paths that climb, are absolute or pass through links, given to
// cl cat, cl download and cl write (bin/cl as a subprocess), to the contents routes, and to
// dependencies of new runs; the live ones aim at runs that a real worker runs in Docker and that
// hold a link to `/`. Each is refused in one line and changes nothing.
import { join } from 'node:path';
import { expect } from 'vitest';
import { routes } from '../../src/protocol/index.js';
import { expectClRefusal, expectHttpRefusal, type HostileContext } from './hostile-context.js';
import type { HostileCase, Outcome } from './hostile-table.js';
import { call } from './security-helpers.js';

type Case = HostileCase<HostileContext>;

/** `cl ARGS` (as root), refused in one line matching `reason`; `{data}`/`{run}` name root's fixtures. */
function clRefused(family: string, args: string[], reason: RegExp, expected = 'cl exit 1, one line'): Case {
  return {
    family,
    attack: `cl ${args.join(' ')}`,
    expected,
    attempt: async (ctx): Promise<Outcome> => {
      const filled = args.map((a) => a.replace('{data}', ctx.root.data).replace('{run}', ctx.root.run).replace('{out}', join(ctx.cluster.root, 'downloads', 'out')).replace('{canary}', ctx.canary.dir));
      const result = await ctx.cluster.cl(filled);
      const line = expectClRefusal(result, reason);
      expect(result.stderr).not.toContain(ctx.canary.secret);
      return { result: line };
    },
  };
}

/** A raw REST read of `path` below a fixture bundle, refused with `status`. */
function readRefused(kind: 'blob' | 'info', which: 'data' | 'run', rawPath: string, status: 400 | 404, reason: RegExp): Case {
  return {
    family: 'contents',
    attack: `GET contents/${kind}/${rawPath} of ${which === 'run' ? 'a running' : 'a ready'} bundle`,
    expected: `${status}`,
    attempt: async (ctx): Promise<Outcome> => {
      const uuid = which === 'run' ? ctx.root.run : ctx.root.data;
      // Raw: the path goes out as written (encoded dots and slashes included), not through `routes`.
      const answer = await call(ctx.url, 'GET', `/rest/bundles/${uuid}/contents/${kind}/${rawPath}`, { token: ctx.root.token });
      expect(JSON.stringify(answer.body)).not.toContain(ctx.canary.secret);
      expect(JSON.stringify(answer.body)).not.toContain('root:x:0:0');
      return { result: expectHttpRefusal(answer, status, status === 404 ? 'not_found' : 'bad_request', reason) };
    },
  };
}

/** POST /rest/bundle-actions `write` into root's running bundle at `subpath`, refused. */
function writeRefused(subpath: string, reason: RegExp, status: 400 | 404 = 400): Case {
  const code = status === 404 ? 'not_found' : 'bad_request';
  return {
    family: 'live',
    attack: `REST write to running bundle at '${subpath}'`,
    expected: `${status} ${code}`,
    attempt: async (ctx): Promise<Outcome> => {
      const answer = await call(ctx.url, 'POST', routes.bundleActions(), { token: ctx.root.token, json: { type: 'write', uuid: ctx.root.run, subpath: subpath.replace('{canary}', ctx.canary.dir), string: 'pwned' } });
      return { result: expectHttpRefusal(answer, status, code, reason) };
    },
  };
}

/** A new run or make whose dependency `child_path: parent_path` is refused at creation. */
function dependencyRefused(bundleType: 'run' | 'make', childPath: string, parentPath: string, reason: RegExp): Case {
  return {
    family: 'dependency',
    attack: `${bundleType} with dependency '${childPath}' -> '${parentPath}'`,
    expected: '400 bad_request',
    attempt: async (ctx): Promise<Outcome> => {
      const answer = await call(ctx.url, 'POST', routes.createBundle(ctx.root.home), {
        token: ctx.root.token,
        json: {
          bundle_type: bundleType,
          ...(bundleType === 'run' ? { command: 'cat in' } : {}),
          metadata: { name: 'climbing-dep' },
          dependencies: [{ child_path: childPath, parent_uuid: ctx.root.data, parent_path: parentPath.replace('{canary}', ctx.canary.dir) }],
        },
      });
      return { result: expectHttpRefusal(answer, 400, 'bad_request', reason) };
    },
  };
}

const THROUGH_LINK = /symbolic link/i;
const CLIMBS = /'\.\.'|outside|climb|not a valid path|invalid path/i;

export const pathCases: Case[] = [
  clRefused('cl cat', ['cat', '{data}/../../../../etc/passwd'], CLIMBS),
  clRefused('cl cat', ['cat', '{data}/dir/../../x'], CLIMBS),
  clRefused('cl cat', ['cat', '{data}/{canary}/secret.txt'], /No worksheet named/),
  clRefused('cl cat', ['cat', '{run}/rootlink/etc/passwd'], THROUGH_LINK),
  {
    family: 'cl cat',
    attack: 'cl cat {run}/rootlink (a link to / in a running bundle)',
    expected: 'the link shown, never the host\'s /',
    attempt: async (ctx): Promise<Outcome> => {
      const result = await ctx.cluster.cl(['cat', `${ctx.root.run}/rootlink`]);
      expect(result.code, result.stderr).toBe(0);
      // A listing of the host's root would name these; the link's own entry does not.
      for (const name of ['proc', 'usr', 'root:x:0:0']) expect(result.stdout).not.toMatch(new RegExp(`(^|\\s)${name}(\\s|$)`, 'm'));
      return { result: `exit 0: ${result.stdout.trim().split('\n')[0] ?? ''}` };
    },
  },
  clRefused('cl cat', ['cat', '{run}/../../etc/passwd'], CLIMBS),
  clRefused('cl download', ['download', '{data}/../..', '-o', '{out}-climb'], CLIMBS),
  clRefused('cl download', ['download', '{run}/rootlink', '-o', '{out}-rootlink'], THROUGH_LINK),
  clRefused('cl download', ['download', '{run}/rootlink/etc', '-o', '{out}-etc'], THROUGH_LINK),
  clRefused('cl write', ['write', '{run}/../escape', 'pwned'], CLIMBS),
  clRefused('cl write', ['write', '{run}/own/../../escape', 'pwned'], CLIMBS),
  clRefused('cl write', ['write', '{run}/rootlink/tmp/cl-hostile', 'pwned'], THROUGH_LINK),
  clRefused('cl write', ['write', '{run}/rootlink', 'pwned'], THROUGH_LINK),
  clRefused('cl write', ['write', '{data}/dir/a.txt', 'pwned'], /not running|running bundle|only.*run/i),
  clRefused('cl run', ['run', 'in:{data}/../..', 'cat in'], CLIMBS),
  clRefused('cl run', ['run', 'in:{data}/{canary}', 'cat in'], /No worksheet named/),
  readRefused('blob', 'data', '..%2F..%2F..%2Fetc%2Fpasswd', 400, CLIMBS),
  readRefused('info', 'data', 'dir%2F..%2F..%2F..', 400, CLIMBS),
  readRefused('blob', 'data', '%2Fetc%2Fpasswd', 404, /Target '\/etc\/passwd' doesn't exist/),
  readRefused('blob', 'run', 'rootlink%2Fetc%2Fpasswd', 404, /passes through a symbolic link/),
  readRefused('blob', 'run', 'rootlink', 400, THROUGH_LINK),
  readRefused('info', 'run', 'rootlink%2Fetc', 404, /passes through a symbolic link/),
  readRefused('blob', 'run', '..%2F..%2F..%2Fetc%2Fpasswd', 400, CLIMBS),
  writeRefused('../escape', CLIMBS),
  writeRefused('{canary}/victim.txt', /must be relative to the bundle/),
  writeRefused('rootlink{canary}/victim.txt', /passes through a symbolic link/, 404),
  dependencyRefused('run', 'in', '..', /path '\.\.' of dependency 'in'/),
  dependencyRefused('run', 'in', 'dir/../../etc', /of dependency 'in'/),
  dependencyRefused('run', 'in', '{canary}/secret.txt', /absolute/),
  dependencyRefused('run', '../up', '', /dependency key '\.\.\/up'/),
  dependencyRefused('make', 'in', '..', /path '\.\.' of dependency 'in'/),
  dependencyRefused('make', '/abs', '', /dependency key '\/abs'/),
];
