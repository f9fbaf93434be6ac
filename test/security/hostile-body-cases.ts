// Rows of the hostile-input suite: request bodies and headers no client of ours sends — oversized,
// malformed or wrongly typed JSON, prototype-polluting keys, fields a caller may not set, bad ids
// in the path, oversized headers. Each is refused with a 4xx and one line, and changes nothing.
import { request } from 'node:http';
import { expect } from 'vitest';
import { REST, routes, type Bundle } from '../../src/protocol/index.js';
import { expectHttpRefusal, intruderCheckin, type HostileContext } from './hostile-context.js';
import type { HostileCase, Outcome } from './hostile-table.js';
import { call, type Answer } from './security-helpers.js';

type Case = HostileCase<HostileContext>;

/**
 * A request with a raw body and any headers: what `call` cannot send (broken JSON, huge headers).
 * With `declaredLength`, the body is announced at that length but only its start is sent: the
 * server must answer from the header alone.
 */
function rawCall(url: string, method: string, path: string, body: string, headers: Record<string, string>, declaredLength?: number): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let responded = false;
    const req = request(`${url}${path}`, { method, headers }, (res) => {
      responded = true;
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let parsed: unknown = text;
        try {
          parsed = JSON.parse(text);
        } catch {
          // Not JSON (a bare 431 from Node's HTTP parser): keep the text.
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: parsed });
        if (declaredLength !== undefined) req.destroy();
      });
      res.on('error', reject);
    });
    // The server may answer (413) and close before the body is sent: the answer is what counts.
    req.on('error', (error) => (responded ? undefined : reject(error)));
    if (declaredLength === undefined) {
      req.end(body);
    } else {
      req.setHeader('content-length', String(declaredLength));
      req.write(body);
    }
  });
}

/** A raw JSON text POSTed to create a bundle on root's home worksheet, refused. */
function createRefused(attack: string, text: (ctx: HostileContext) => string, status: number, code: string, reason: RegExp, declaredLength?: number): Case {
  return {
    family: 'body',
    attack,
    expected: `${status} ${code}`,
    attempt: async (ctx): Promise<Outcome> => {
      const answer = await rawCall(ctx.url, 'POST', routes.createBundle(ctx.root.home), text(ctx), {
        authorization: `Bearer ${ctx.root.token}`,
        'content-type': 'application/json',
      }, declaredLength);
      return { result: expectHttpRefusal(answer, status, code, reason) };
    },
  };
}

/** A JSON request (any route) with a well-formed body that the route refuses. */
function jsonRefused(attack: string, method: string, path: (ctx: HostileContext) => string, json: (ctx: HostileContext) => unknown, status: number, code: string, reason: RegExp): Case {
  return {
    family: 'body',
    attack,
    expected: `${status} ${code}`,
    attempt: async (ctx): Promise<Outcome> => {
      const route = path(ctx);
      // Worker routes take root's worker token, so that the body is what gets refused.
      const token = route.startsWith(`${REST}/workers/`) && route !== routes.workersInfo() ? ctx.root.workerToken : ctx.root.token;
      const answer = await call(ctx.url, method, route, { token, json: json(ctx) });
      return { result: expectHttpRefusal(answer, status, code, reason) };
    },
  };
}

const TWO_MIB = 2 * 1024 * 1024;
const dataset = (extra: Record<string, unknown> = {}) => JSON.stringify({ bundle_type: 'dataset', metadata: { name: 'body' }, dependencies: [], ...extra });
const NOT_JSON = /Body is not valid JSON/;

export const bodyCases: Case[] = [
  createRefused('JSON body of 2 MiB + 1 byte', () => {
    const text = dataset({ pad: '' });
    return text.replace('"pad":"', `"pad":"${'p'.repeat(TWO_MIB + 1 - Buffer.byteLength(text))}`);
  }, 413, 'too_large', /2097153 bytes.*2097152/),
  createRefused('JSON body announced as 1 GiB', () => dataset().slice(0, -1), 413, 'too_large', /1073741824 bytes.*2097152/, 1024 ** 3),
  createRefused('truncated JSON', () => dataset().slice(0, -5), 400, 'bad_request', NOT_JSON),
  createRefused('JSON with a trailing comma', () => '{"bundle_type":"dataset","metadata":{},}', 400, 'bad_request', NOT_JSON),
  createRefused('empty body with a JSON content type', () => '', 400, 'bad_request', /Body cannot be empty/),
  createRefused('JSON array instead of an object', () => '[1,2,3]', 400, 'bad_request', /expected object/),
  createRefused('JSON string instead of an object', () => '"dataset"', 400, 'bad_request', /expected object/),
  createRefused('JSON null', () => 'null', 400, 'bad_request', /expected object/),
  createRefused('JSON nested 100,000 levels deep', () => `{"metadata":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, 400, 'bad_request', /Invalid request/),
  createRefused('__proto__ key (prototype pollution)', () => '{"bundle_type":"dataset","metadata":{"name":"p"},"__proto__":{"is_root":1}}', 400, 'bad_request', NOT_JSON),
  createRefused('constructor.prototype key', () => '{"bundle_type":"dataset","metadata":{"name":"p","constructor":{"prototype":{"is_root":1}}}}', 400, 'bad_request', NOT_JSON),
  createRefused('invalid UTF-8 in JSON', () => Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x3a, 0x31, 0x7d]).toString('latin1'), 400, 'bad_request', /bundle_type/),
  createRefused('bundle_type of the wrong type (number)', () => dataset({ bundle_type: 5 }), 400, 'bad_request', /bundle_type/),
  createRefused('unknown bundle_type', () => dataset({ bundle_type: 'program' }), 400, 'bad_request', /bundle_type/),
  createRefused('metadata a string', () => dataset({ metadata: 'x' }), 400, 'bad_request', /metadata/),
  createRefused('dependencies an object', () => dataset({ dependencies: { a: 1 } }), 400, 'bad_request', /dependencies/),
  createRefused('run with a numeric command', () => JSON.stringify({ bundle_type: 'run', command: 42, metadata: { name: 'n' }, dependencies: [] }), 400, 'bad_request', /command/),
  createRefused('name with a slash', () => dataset({ metadata: { name: 'a/../b' } }), 400, 'bad_request', /letters, digits/),
  createRefused('dependency on a malformed uuid', () => JSON.stringify({ bundle_type: 'run', command: 'true', metadata: { name: 'n' }, dependencies: [{ child_path: 'in', parent_uuid: "0x' OR 1=1 --", parent_path: '' }] }), 400, 'bad_request', /uuid/i),
  jsonRefused('kill with a malformed uuid', 'POST', () => routes.bundleActions(), () => ({ type: 'kill', uuid: '../../etc' }), 400, 'bad_request', /uuid/i),
  jsonRefused('unknown bundle action', 'POST', () => routes.bundleActions(), (ctx) => ({ type: 'chmod', uuid: ctx.root.data }), 400, 'bad_request', /Invalid request/),
  jsonRefused('worksheet named ../escape', 'POST', () => '/rest/worksheets', () => ({ name: '../escape' }), 400, 'bad_request', /name/i),
  jsonRefused('search with keywords of the wrong type', 'POST', () => '/rest/bundles/search', () => ({ keywords: 'name=x' }), 400, 'bad_request', /keywords/),
  jsonRefused('token request with grant_type client_credentials', 'POST', () => routes.token(), () => ({ grant_type: 'client_credentials', username: 'codalab', password: 'x' }), 400, 'bad_request', /grant_type/),
  jsonRefused('check-in of an unknown protocol version', 'POST', () => routes.checkin('intruder'), () => ({ ...intruderCheckin(), protocol_version: 999 }), 400, 'bad_request', /protocol/i),
  {
    family: 'body',
    attack: 'GET a bundle by a uuid with SQL in it',
    expected: '400 bad_request',
    attempt: async (ctx) => ({ result: expectHttpRefusal(await call(ctx.url, 'GET', `/rest/bundles/${encodeURIComponent("0x1' OR '1'='1")}`, { token: ctx.root.token }), 400, 'bad_request', /uuid/i) }),
  },
  {
    family: 'body',
    attack: 'a 64 KiB Authorization header',
    expected: '431 from the HTTP parser',
    attempt: async (ctx): Promise<Outcome> => {
      const answer = await rawCall(ctx.url, 'GET', routes.bundle(ctx.root.data), '', { authorization: `Bearer ${'t'.repeat(64 * 1024)}` });
      expect(answer.status).toBe(431);
      return { result: '431 Request Header Fields Too Large' };
    },
  },
  {
    family: 'body',
    attack: '2,000 headers of 30 bytes each',
    expected: '431 from the HTTP parser',
    attempt: async (ctx): Promise<Outcome> => {
      const headers: Record<string, string> = { authorization: `Bearer ${ctx.root.token}` };
      for (let i = 0; i < 2000; i += 1) headers[`x-h-${i}`] = 'v'.repeat(20);
      const answer = await rawCall(ctx.url, 'GET', routes.bundle(ctx.root.data), '', headers);
      expect(answer.status).toBe(431);
      return { result: '431 Request Header Fields Too Large' };
    },
  },
  {
    family: 'body',
    attack: 'edit setting state, owner_id and uuid (fields an edit may not set)',
    expected: 'ignored: the bundle is unchanged',
    attempt: async (ctx): Promise<Outcome> => {
      const answer = await call(ctx.url, 'PATCH', routes.bundle(ctx.root.data), { token: ctx.root.token, json: { state: 'failed', owner_id: 'alice-id', uuid: `0x${'cd'.repeat(16)}` } });
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      expect(answer.body).toMatchObject({ uuid: ctx.root.data, state: 'ready', owner_name: 'codalab' });
      return { result: '200, nothing stored (unknown fields are dropped)' };
    },
  },
  {
    family: 'body',
    attack: 'create with uuid, owner_id and state chosen by the caller',
    expected: 'created, those fields ignored',
    attempt: async (ctx): Promise<Outcome> => {
      const chosen = `0x${'ab'.repeat(16)}`;
      const answer = await call(ctx.url, 'POST', routes.createBundle(ctx.root.home), { token: ctx.root.token, json: { bundle_type: 'dataset', metadata: { name: 'mass-assign' }, dependencies: [], uuid: chosen, owner_id: 'alice-id', state: 'ready' } });
      expect(answer.status).toBe(200);
      const bundle = answer.body as Bundle;
      expect(bundle.uuid).not.toBe(chosen);
      expect(bundle.state).toBe('uploading');
      expect(bundle.owner_name ?? 'codalab').toBe('codalab');
      return { result: `200, new ${bundle.state} bundle of root's, uuid not taken`, allowed: createdBundle(bundle.uuid) };
    },
  },
];

/** The diff lines a newly created bundle (and its worksheet item) make; nothing else. */
export function createdBundle(uuid: string): RegExp[] {
  return [
    new RegExp(`^[+~] db bundles\\[uuid=${uuid}\\]`),
    new RegExp(`^\\+ store bundles/${uuid}(/|\\s)`),
    /^\+ db worksheet_items\[id=\d+\]\./,
    /^~ db sqlite_sequence\[name=(bundles|worksheet_items)\]\.seq:/,
  ];
}
