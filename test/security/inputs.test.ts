// Hostile inputs, performed for real: a cl-server on loopback, raw HTTP requests with a root token,
// and bin/cl as a subprocess. Every refusal is checked for its one-line message (field, limit,
// actual length) and for changing nothing; stored control characters must reach the terminal
// escaped, never as raw bytes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, type ClResult } from '../e2e/harness.js';
import { expectOneLineError as expectShared } from '../e2e/cl-assertions.js';
import { WORKER_CLIENT_ID, routes } from '../../src/protocol/index.js';

const UUID = /^0x[0-9a-f]{32}$/;
const MEGA = 1_000_000;
/** ESC, BEL and the C1 CSI: none of them may reach a terminal from stored data. */
const HOSTILE = '\x1b[2J\x1b]0;pwned\x07 and \u009b31m';
// eslint-disable-next-line no-control-regex -- the raw bytes are what must never appear
const RAW_CONTROLS = /[\x1b\x07\u009b]/;

let cluster: Cluster;
let token = '';
/** Root's worker token: the worker routes take no user session. */
let workerToken = '';
let home = '';

interface Answer {
  status: number;
  body: unknown;
  text: string;
}

/** A raw JSON request as root (as root's worker on worker routes), bypassing every check the client makes. */
async function api(method: string, path: string, json?: unknown, rawBody?: string): Promise<Answer> {
  const body = rawBody ?? (json === undefined ? undefined : JSON.stringify(json));
  const isWorkerRoute = path.startsWith('/rest/workers/') && path !== routes.workersInfo();
  const response = await fetch(`${cluster.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${isWorkerRoute ? workerToken : token}`, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
    body,
  });
  const text = await response.text();
  let parsed: unknown = null;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: the test looks at `text`
  }
  return { status: response.status, body: parsed, text };
}

function errorOf(answer: Answer): { code: string; message: string } {
  const error = (answer.body as { error?: { code: string; message: string } } | null)?.error;
  if (!error) throw new Error(`expected an error body, got ${answer.status} ${answer.text.slice(0, 300)}`);
  return error;
}

function expectRefused(answer: Answer, pattern: RegExp, code = 'bad_request'): void {
  const error = errorOf(answer);
  expect(error.code).toBe(code);
  expect(error.message).toMatch(pattern);
  expect(error.message).not.toContain('\n');
  // The refusal never echoes a huge value back.
  expect(error.message.length).toBeLessThan(400);
}

function expectOneLineError(result: ClResult, pattern: RegExp): void {
  expectShared(result, pattern, { maxLength: 400 });
}

function expectEscaped(result: ClResult, mustShow: string[]): void {
  expect(result.code, result.stderr).toBe(0);
  expect(result.stdout).not.toMatch(RAW_CONTROLS);
  expect(result.stderr).not.toMatch(RAW_CONTROLS);
  for (const text of mustShow) expect(result.stdout).toContain(text);
}

async function bundleCount(): Promise<number> {
  const answer = await api('POST', '/rest/bundles/search', { keywords: ['.count'] });
  return (answer.body as { result: number }).result;
}

async function worksheetCount(): Promise<number> {
  const answer = await api('POST', '/rest/worksheets/search', { keywords: ['.limit=100000'] });
  return (answer.body as { worksheets: unknown[] }).worksheets.length;
}

async function homeItems(): Promise<number> {
  const answer = await api('GET', `/rest/worksheets/${home}/items`);
  return (answer.body as { items: unknown[] }).items.length;
}

async function createBundle(request: Record<string, unknown>): Promise<Answer> {
  return api('POST', `/rest/bundles?worksheet=${home}`, { metadata: {}, dependencies: [], ...request });
}

async function createdUuid(request: Record<string, unknown>): Promise<string> {
  const answer = await createBundle(request);
  expect(answer.status, answer.text.slice(0, 300)).toBe(200);
  return (answer.body as { uuid: string }).uuid;
}

/** Runs `check` and asserts that no bundle, worksheet or worksheet item appeared meanwhile. */
async function changesNothing(check: () => Promise<void>): Promise<void> {
  const before = [await bundleCount(), await worksheetCount(), await homeItems()];
  await check();
  expect([await bundleCount(), await worksheetCount(), await homeItems()]).toEqual(before);
}

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.startServer();
  await cluster.clOk(['work', `${cluster.url}::`]);
  writeFileSync(join(cluster.root, 'data.txt'), 'x\n');
  token = await cluster.token();
  workerToken = await cluster.token(undefined, undefined, WORKER_CLIENT_ID);
  home = ((await api('GET', '/rest/worksheets/home')).body as { uuid: string }).uuid;
});

afterAll(async () => {
  await cluster?.stop();
});

describe('names', () => {
  it('refuses a 1,000,000-character bundle name on upload, run and edit, over HTTP, storing nothing', async () => {
    const huge = 'a'.repeat(MEGA);
    const existing = await createdUuid({ bundle_type: 'dataset', metadata: { name: 'kept' } });
    await changesNothing(async () => {
      expectRefused(await createBundle({ bundle_type: 'dataset', metadata: { name: huge } }), /name.*1000000 characters.*limit is 255/i);
      expectRefused(await createBundle({ bundle_type: 'run', command: 'true', metadata: { name: huge } }), /name.*1000000 characters.*limit is 255/i);
      expectRefused(await api('PATCH', `/rest/bundles/${existing}`, { metadata: { name: huge } }), /name.*1000000 characters.*limit is 255/i);
    });
    expect(((await api('GET', `/rest/bundles/${existing}`)).body as { metadata: { name: string } }).metadata.name).toBe('kept');
  });

  it('refuses an overlong name in cl upload -n, cl run -n and cl edit -n with one line', async () => {
    // One argv string is capped at 128 KiB by Linux, so the CLI is tried with 100,000 characters.
    const long = 'b'.repeat(100_000);
    const existing = await cluster.clOk(['upload', 'data.txt', '-n', 'edit-me']);
    await changesNothing(async () => {
      expectOneLineError(await cluster.cl(['upload', 'data.txt', '-n', long]), /name.*100000 characters.*limit is 255/i);
      expectOneLineError(await cluster.cl(['run', '-n', 'c'.repeat(256), 'true']), /name.*256 characters.*limit is 255/i);
      expectOneLineError(await cluster.cl(['edit', existing, '-n', long]), /name.*100000 characters.*limit is 255/i);
    });
    expect(await cluster.clOk(['info', '-f', 'name', existing])).toBe('edit-me');
    // 255 characters is still a name.
    const ok = await cluster.clOk(['upload', 'data.txt', '-n', 'd'.repeat(255)]);
    expect(ok).toMatch(UUID);
    // A name derived from a file name as long as Linux allows is shortened, never refused.
    const longFile = `${'f'.repeat(250)}.txt`;
    writeFileSync(join(cluster.root, longFile), 'long\n');
    const derived = await cluster.clOk(['upload', longFile]);
    expect((await cluster.clOk(['info', '-f', 'name', derived])).length).toBeLessThanOrEqual(32);
  });

  it('refuses a 1,000,000-character worksheet name and an overlong title, storing nothing', async () => {
    await changesNothing(async () => {
      expectRefused(await api('POST', '/rest/worksheets', { name: 'w'.repeat(MEGA) }), /worksheet name.*1000000 characters.*limit is 255/i);
      expectRefused(await api('POST', '/rest/worksheets', { name: 'titled', title: 't'.repeat(MEGA) }), /title.*1000000 characters.*limit is 1024/i);
      expectOneLineError(await cluster.cl(['new', 'w'.repeat(300)]), /worksheet name.*300 characters.*limit is 255/i);
    });
  });

  it('refuses a name with a character outside the allowed set, naming the set, and echoes it escaped', async () => {
    const existing = await cluster.clOk(['upload', 'data.txt', '-n', 'plain']);
    await changesNothing(async () => {
      expectRefused(await createBundle({ bundle_type: 'dataset', metadata: { name: 'two words' } }), /letters, digits, '_', '\.' or '-'/);
      expectRefused(await api('PATCH', `/rest/bundles/${existing}`, { metadata: { name: `x${HOSTILE}` } }), /letters, digits, '_', '\.' or '-'/);
      const result = await cluster.cl(['edit', existing, '-n', `x${HOSTILE}`]);
      expectOneLineError(result, /letters, digits, '_', '\.' or '-'/);
      expect(result.stderr).not.toMatch(RAW_CONTROLS);
      expect(result.stderr).toContain('\\x1b[2J');
    });
    expect(await cluster.clOk(['info', '-f', 'name', existing])).toBe('plain');
  });
});

describe('descriptions, tags and metadata', () => {
  it('refuses an overlong description, too many or too long tags, and overlong metadata, storing nothing', async () => {
    const existing = await createdUuid({ bundle_type: 'dataset', metadata: { name: 'meta', description: 'short' } });
    const refusals: [Record<string, unknown>, RegExp][] = [
      [{ description: 'd'.repeat(MEGA) }, /description.*1000000 characters.*limit is 8192/i],
      [{ description: 'd'.repeat(8193) }, /description.*8193 characters.*limit is 8192/i],
      [{ tags: Array.from({ length: 101 }, (_, i) => `t${i}`) }, /tags.*101.*limit is 100/i],
      [{ tags: ['ok', 't'.repeat(256)] }, /tag.*256 characters.*limit is 255/i],
      [{ note: 'n'.repeat(MEGA) }, /note.*1000000 characters.*limit is 8192/i],
      [{ ['k'.repeat(1000)]: 'v' }, /key.*1000 characters.*limit is 100/i],
      [Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`key${i}`, 'v'])), /20[12] keys.*limit is 200/i],
    ];
    await changesNothing(async () => {
      for (const [metadata, pattern] of refusals) {
        expectRefused(await createBundle({ bundle_type: 'dataset', metadata: { name: 'over', ...metadata } }), pattern);
        expectRefused(await api('PATCH', `/rest/bundles/${existing}`, { metadata }), pattern);
      }
      expectOneLineError(await cluster.cl(['edit', existing, '-d', 'e'.repeat(9000)]), /description.*9000 characters.*limit is 8192/i);
      expectOneLineError(await cluster.cl(['upload', 'data.txt', '--tags', 'ok', 'u'.repeat(300)]), /tag.*300 characters.*limit is 255/i);
    });
    // Edits one at a time cannot pile up keys past the limit either.
    const stored = Object.keys(((await api('GET', `/rest/bundles/${existing}`)).body as { metadata: object }).metadata).length;
    const fill = Object.fromEntries(Array.from({ length: 200 - stored }, (_, i) => [`fill${i}`, 'v']));
    expect((await api('PATCH', `/rest/bundles/${existing}`, { metadata: fill })).status).toBe(200);
    expectRefused(await api('PATCH', `/rest/bundles/${existing}`, { metadata: { one_more: 'v' } }), /201 keys; the limit is 200/);
    const kept = (await api('GET', `/rest/bundles/${existing}`)).body as { metadata: Record<string, unknown> };
    expect(kept.metadata.description).toBe('short');
    expect(kept.metadata.tags).toBeUndefined();
    expect(kept.metadata.note).toBeUndefined();
  });

  it('refuses overlong worksheet text, keeping the worksheet as it was', async () => {
    await changesNothing(async () => {
      expectRefused(await api('POST', `/rest/worksheets/${home}/items`, { type: 'markup', value: 'm'.repeat(MEGA) }), /text.*1000000 characters.*limit is 65536/i);
    });
  });
});

describe('commands', () => {
  it('refuses a 1 MB command at creation over HTTP and in cl run, with the limit', async () => {
    const command = `echo ${'x'.repeat(MEGA)}`;
    await changesNothing(async () => {
      expectRefused(await createBundle({ bundle_type: 'run', command, metadata: { name: 'big' } }), /command.*1000005 bytes.*limit is 65536 bytes/i);
      // 10,000 words of 100 characters after ---: about 1 MB of command in argv-sized pieces.
      const words = Array.from({ length: 10_000 }, () => 'y'.repeat(100));
      expectOneLineError(await cluster.cl(['run', '---', 'echo', ...words]), /command.*1010004 bytes.*limit is 65536 bytes/i);
      // Characters count as their UTF-8 bytes: 32,768 'é' are 65,536 bytes, one more is over.
      expectRefused(await createBundle({ bundle_type: 'run', command: `${'é'.repeat(32_768)}x`, metadata: { name: 'wide' } }), /65537 bytes.*limit is 65536 bytes/i);
    });
    const fits = await createdUuid({ bundle_type: 'run', command: `: ${'z'.repeat(65_536 - 2)}`, metadata: { name: 'fits' } });
    expect(fits).toMatch(UUID);
  });

  it('refuses, in cl mimic, a command stored before the limit existed, and still shows that bundle', async () => {
    const oldInput = await cluster.clOk(['upload', '-c', 'old', '-n', 'old-input']);
    const newInput = await cluster.clOk(['upload', '-c', 'new', '-n', 'new-input']);
    const run = await cluster.clOk(['run', 'in:old-input', 'cat in']);
    // Data from before the limits: written straight into the server's database.
    const db = new Database(join(cluster.serverHome, 'codalab.sqlite'));
    try {
      db.prepare('UPDATE bundles SET command = ? WHERE uuid = ?').run(`echo ${'x'.repeat(MEGA)}`, run);
    } finally {
      db.close();
    }
    expect((await cluster.clOk(['info', '-f', 'command', run])).length).toBe(MEGA + 5);
    await changesNothing(async () => {
      expectOneLineError(await cluster.cl(['mimic', oldInput, newInput]), /command.*1000005 bytes.*limit is 65536 bytes/i);
    });
  });
});

describe('dependency paths', () => {
  it("refuses '..' and absolute parent paths, and bad keys, for run and make at creation", async () => {
    const parent = await createdUuid({ bundle_type: 'dataset', metadata: { name: 'parent' } });
    const dep = (child_path: string, parent_path: string) => ({ child_path, parent_uuid: parent, parent_path });
    await changesNothing(async () => {
      for (const bundle_type of ['run', 'make']) {
        const base = { bundle_type, command: bundle_type === 'run' ? 'cat in' : undefined, metadata: { name: 'paths' } };
        expectRefused(await createBundle({ ...base, dependencies: [dep('in', '..')] }), /path '\.\.' of dependency 'in'.*'\.\.'/i);
        expectRefused(await createBundle({ ...base, dependencies: [dep('in', 'a/../../etc')] }), /path 'a\/\.\.\/\.\.\/etc' of dependency 'in'/i);
        expectRefused(await createBundle({ ...base, dependencies: [dep('in', '/etc/passwd')] }), /path '\/etc\/passwd' of dependency 'in'.*absolute/i);
        expectRefused(await createBundle({ ...base, dependencies: [dep('../up', '')] }), /dependency key '\.\.\/up'/i);
        expectRefused(await createBundle({ ...base, dependencies: [dep('/abs', '')] }), /dependency key '\/abs'/i);
        expectRefused(await createBundle({ ...base, dependencies: [dep('k'.repeat(300), '')] }), /dependency key.*300 characters.*limit is 255/i);
      }
    });
    // Plain sub-paths still work.
    expect(await createdUuid({ bundle_type: 'run', command: 'cat in', metadata: { name: 'fine' }, dependencies: [dep('in', 'a/b.txt')] })).toMatch(UUID);
  });
});

describe('JSON body limit', () => {
  it('refuses a JSON body just over 2 MiB with too_large, and changes nothing', async () => {
    await changesNothing(async () => {
      const padding = 2 * 1024 * 1024 - 200;
      const request = { bundle_type: 'dataset', metadata: { name: 'padded' }, dependencies: [], pad: 'p'.repeat(padding) };
      let text = JSON.stringify(request);
      text = text.replace('"pad":"', `"pad":"${'q'.repeat(2 * 1024 * 1024 + 1 - Buffer.byteLength(text))}`);
      expect(Buffer.byteLength(text)).toBe(2 * 1024 * 1024 + 1);
      const answer = await api('POST', `/rest/bundles?worksheet=${home}`, undefined, text);
      expect(answer.status).toBe(413);
      expectRefused(answer, /2097153 bytes.*limit.*2097152 bytes/i, 'too_large');
    });
  });

  it('accepts the largest legitimate requests: a busy worker check-in, a maximal run, maximal worksheet text', async () => {
    const runs = Array.from({ length: 64 }, (_, i) => ({
      uuid: `0x${i.toString(16).padStart(32, '0')}`,
      assignment_id: `assignment-${i}`,
      state: 'running',
      progress: { run_status: 'Running', time: 12.5, memory: 1e9, docker_image: 'codalab/default-cpu@sha256:'.padEnd(90, 'a') },
    }));
    const checkin = {
      protocol_version: 1,
      hostname: 'big-worker',
      // Exclusive, so that the scheduler sends it none of the other tests' runs.
      tag: 'big',
      tag_exclusive: true,
      cpus: 128,
      gpus: 0,
      memory_bytes: 1e12,
      free_disk_bytes: 1e13,
      slots: 64,
      runs_left: null,
      // A worker whose cache holds 20,000 dependencies, each named `uuid:path`.
      cached_dependencies: Array.from({ length: 20_000 }, (_, i) => `0x${i.toString(16).padStart(32, '0')}:data/split-${i}/train.jsonl`),
      runs,
      docker_ok: true,
      docker_message: null,
    };
    expect(Buffer.byteLength(JSON.stringify(checkin))).toBeGreaterThan(1024 * 1024);
    const version = await import('../../src/protocol/version.js');
    const answer = await api('POST', '/rest/workers/big-worker/checkin', { ...checkin, protocol_version: version.PROTOCOL_VERSION });
    expect(answer.status, answer.text.slice(0, 300)).toBe(200);

    const parents = await Promise.all(Array.from({ length: 8 }, (_, i) => createdUuid({ bundle_type: 'dataset', metadata: { name: `p${i}` } })));
    const maximal = {
      bundle_type: 'run',
      command: `: ${'c'.repeat(65_536 - 2)}`,
      metadata: {
        name: 'm'.repeat(255),
        description: 'd'.repeat(8192),
        tags: Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(255, 't')),
        exclude_patterns: Array.from({ length: 100 }, (_, i) => `${i}`.padEnd(255, '*')),
      },
      dependencies: Array.from({ length: 1000 }, (_, i) => ({ child_path: `dep-${i}`, parent_uuid: parents[i % 8], parent_path: `dir/${i}`.padEnd(200, 'x') })),
    };
    expect(Buffer.byteLength(JSON.stringify(maximal))).toBeGreaterThan(400_000);
    expect(await createdUuid(maximal)).toMatch(UUID);

    const text = await api('POST', `/rest/worksheets/${home}/items`, { type: 'markup', value: 'w'.repeat(65_536) });
    expect(text.status, text.text.slice(0, 300)).toBe(200);
  });
});

describe('control characters in stored data', () => {
  it('shows them escaped in cl info, ls, search, print and wls; --json and cat stay exact', async () => {
    const worksheet = (await api('POST', '/rest/worksheets', { name: 'hostile', title: `title ${HOSTILE}` })).body as { uuid: string };
    const dataset = await api('POST', `/rest/bundles?worksheet=${worksheet.uuid}`, {
      bundle_type: 'dataset',
      metadata: { name: 'esc-data', description: `desc ${HOSTILE}`, [`key${HOSTILE}`]: `value ${HOSTILE}\tafter-tab` },
      dependencies: [],
    });
    expect(dataset.status, dataset.text).toBe(200);
    const run = await api('POST', `/rest/bundles?worksheet=${worksheet.uuid}`, {
      bundle_type: 'run',
      command: `echo ${HOSTILE}`,
      metadata: { name: 'esc-run', tags: [`tag${HOSTILE}`] },
      dependencies: [],
    });
    expect(run.status, run.text).toBe(200);
    expect((await api('POST', `/rest/worksheets/${worksheet.uuid}/items`, { type: 'markup', value: `line one ${HOSTILE}\nline two` })).status).toBe(200);
    const dataUuid = (dataset.body as { uuid: string }).uuid;
    const runUuid = (run.body as { uuid: string }).uuid;

    const escaped = '\\x1b[2J\\x1b]0;pwned\\x07 and \\u009b31m';
    expectEscaped(await cluster.cl(['info', dataUuid]), [`desc ${escaped}`, `key${escaped}`, `value ${escaped}`]);
    expectEscaped(await cluster.cl(['info', runUuid]), [`echo ${escaped}`, `tag${escaped}`]);
    const fields = await cluster.cl(['info', '-f', `description,key${HOSTILE}`, dataUuid]);
    expectEscaped(fields, [`desc ${escaped}\tvalue ${escaped} after-tab`]);
    expect(fields.stdout.trimEnd().split('\t')).toHaveLength(2);
    expectEscaped(await cluster.cl(['ls', '-w', 'hostile']), [`title ${escaped}`, `! echo ${escaped}`.slice(0, 40)]);
    expectEscaped(await cluster.cl(['search', 'esc-']), [`! echo ${escaped}`.slice(0, 40)]);
    expectEscaped(await cluster.cl(['search', 'esc-', '-f', 'name,description']), [`esc-data\tdesc ${escaped}`]);
    expectEscaped(await cluster.cl(['print', 'hostile']), [`title ${escaped}`, `line one ${escaped}\nline two`]);
    expectEscaped(await cluster.cl(['wls', 'hostile']), [`title ${escaped}`]);

    // --json keeps the exact text (JSON escapes it itself).
    const json = await cluster.cl(['info', '--json', dataUuid]);
    expect(json.stdout).not.toMatch(RAW_CONTROLS);
    expect((JSON.parse(json.stdout) as { metadata: { description: string } }[])[0]?.metadata.description).toBe(`desc ${HOSTILE}`);

    // cl cat prints a file's exact bytes, escape sequences included.
    const file = await cluster.clOk(['upload', '-c', HOSTILE, '-n', 'esc-file']);
    expect((await cluster.cl(['cat', file])).stdoutBytes.equals(Buffer.from(HOSTILE))).toBe(true);
  });

  it('shows a worker-reported failure and docker message escaped in cl wait, cl info and cl workers', async () => {
    const { PROTOCOL_VERSION } = await import('../../src/protocol/version.js');
    // This test plays the worker over raw HTTP; its exclusive tag keeps other runs off it.
    const uuid = await createdUuid({ bundle_type: 'run', command: 'true', metadata: { name: 'fails', request_queue: 'hostile' } });
    const checkin = (docker_ok: boolean, docker_message: string | null) => ({
      protocol_version: PROTOCOL_VERSION, hostname: 'h', tag: 'hostile', tag_exclusive: true, cpus: 4, gpus: 0,
      memory_bytes: 8e9, free_disk_bytes: 1e11, slots: 1, runs_left: null, cached_dependencies: [], runs: [],
      docker_ok, docker_message,
    });
    type Messages = { messages: { type: string; assignment_id: string; run?: { uuid: string } }[] };
    const findRun = (answer: Answer) => (answer.body as Messages).messages.find((m) => m.type === 'run' && m.run?.uuid === uuid)?.assignment_id;
    const first = await api('POST', '/rest/workers/hostile-worker/checkin', checkin(true, null));
    expect(first.status).toBe(200);
    let assignment = findRun(first);
    for (let tries = 0; assignment === undefined && tries < 100; tries += 1) {
      assignment = findRun(await api('GET', '/rest/workers/hostile-worker/messages?wait=2'));
    }
    expect(assignment).toBeDefined();
    expect((await api('POST', `/rest/workers/hostile-worker/runs/${uuid}/start`, { assignment_id: assignment, hostname: 'h' })).status).toBe(200);
    const finish = { assignment_id: assignment, exitcode: 1, failure_message: `boom ${HOSTILE}`, killed: false, progress: {} };
    expect((await api('POST', `/rest/workers/hostile-worker/runs/${uuid}/finish`, finish)).status).toBe(200);
    expect((await api('POST', '/rest/workers/hostile-worker/checkin', checkin(false, `docker ${HOSTILE}`))).status).toBe(200);

    const waited = await cluster.cl(['wait', uuid]);
    expect(waited.code).toBe(1);
    expect(waited.stderr).not.toMatch(RAW_CONTROLS);
    expect(waited.stderr).toContain('boom \\x1b[2J');
    expectEscaped(await cluster.cl(['info', uuid]), ['boom \\x1b[2J']);
    expectEscaped(await cluster.cl(['workers']), ['docker \\x1b[2J']);
  });
});
