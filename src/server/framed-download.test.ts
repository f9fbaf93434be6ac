// Downloads as frames on a connection taken over with HTTP Upgrade, against a real server on
// loopback: the server switches only where asked and only for store reads; the client reads the
// same bytes and headers either way; refusals stay ordinary HTTP errors.
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HttpClient } from '../common/http-client.js';
import { Bundle, FRAMES_PROTOCOL, TARGET_TYPE_HEADER, Worksheet, routes } from '../protocol/index.js';
import { loggedInClient, startTestServer, type TestServer } from './test-server.js';

let testServer: TestServer;
let client: HttpClient;
let scratch: string;
const big = randomBytes(3 * 1024 * 1024 + 17);

beforeAll(async () => {
  testServer = await startTestServer();
  client = testServer.client;
  scratch = await mkdtemp(join(tmpdir(), 'cl-framed-'));
});

afterAll(async () => {
  await testServer.stop();
  await rm(scratch, { recursive: true, force: true });
});

async function dataset(name: string, body: Readable, filename: string, unpack: boolean): Promise<Bundle> {
  const worksheet = await client.json(routes.homeWorksheet(), Worksheet);
  const bundle = await client.json(routes.createBundle(worksheet.uuid), Bundle, { json: { bundle_type: 'dataset', metadata: { name } } });
  return client.json(routes.uploadContents(bundle.uuid, { unpack, filename }), Bundle, { method: 'PUT', body });
}

/** What the server answers a request asking for frames: the status line's code and the headers. */
function upgradeAnswer(path: string, token: string | undefined): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  return new Promise((resolve, reject) => {
    const request = http.request(`${testServer.server.url}${path}`, {
      headers: { connection: 'Upgrade', upgrade: FRAMES_PROTOCOL, ...(token ? { authorization: `Bearer ${token}` } : {}) },
    });
    request.once('error', reject);
    request.once('upgrade', (answer, socket) => {
      socket.destroy();
      resolve({ status: answer.statusCode ?? 0, headers: answer.headers });
    });
    request.once('response', (answer) => {
      answer.resume();
      resolve({ status: answer.statusCode ?? 0, headers: answer.headers });
    });
    request.end();
  });
}

describe('framed downloads', () => {
  it('sends a file as frames when asked, with its type and size, and the client reads the exact bytes', async () => {
    const bundle = await dataset('big-file', Readable.from([big]), 'big.bin', false);
    const answer = await upgradeAnswer(routes.contentsBlob(bundle.uuid, ''), client.token);
    expect(answer.status).toBe(101);
    expect(answer.headers.upgrade).toBe(FRAMES_PROTOCOL);
    expect(answer.headers[TARGET_TYPE_HEADER]).toBe('file');

    const framed = await client.send(routes.contentsBlob(bundle.uuid, ''), { framed: true, timeoutMs: 0 });
    expect(framed.headers.get('content-length')).toBe(String(big.length));
    expect((await framed.buffer()).equals(big)).toBe(true);
  });

  it('sends a directory as a framed tar that unpacks to the same files', async () => {
    const source = join(scratch, 'dir');
    await mkdir(join(source, 'sub'), { recursive: true });
    await writeFile(join(source, 'sub', 'big.bin'), big);
    await writeFile(join(source, 'small.txt'), 'small\n');
    const bundle = await dataset('dir', Readable.from(tar.c({ cwd: source, portable: true }, ['sub', 'small.txt']) as unknown as AsyncIterable<Buffer>), 'x.tar', true);

    const framed = await client.send(routes.contentsBlob(bundle.uuid, ''), { framed: true, timeoutMs: 0 });
    expect(framed.headers.get(TARGET_TYPE_HEADER)).toBe('directory');
    const out = join(scratch, 'out');
    await mkdir(out);
    await pipeline(framed.body, tar.x({ cwd: out, strict: true }) as unknown as NodeJS.WritableStream);
    expect((await readFile(join(out, 'sub', 'big.bin'))).equals(big)).toBe(true);
    expect(await readFile(join(out, 'small.txt'), 'utf8')).toBe('small\n');
  });

  it('answers a head or tail read, asked for frames, as ordinary HTTP', async () => {
    const bundle = await dataset('lines', Readable.from([Buffer.from('one\ntwo\nthree\n')]), 'lines.txt', false);
    const path = `${routes.contentsBlob(bundle.uuid, '')}?tail=1`;
    expect((await upgradeAnswer(path, client.token)).status).toBe(200);
    expect(await (await client.send(path, { framed: true })).text()).toBe('three\n');
  });

  it('refuses without switching: no token, another user, a missing path', async () => {
    const bundle = await dataset('private-big', Readable.from([big]), 'big.bin', false);
    expect((await upgradeAnswer(routes.contentsBlob(bundle.uuid, ''), undefined)).status).toBe(401);
    expect((await upgradeAnswer(routes.contentsBlob(bundle.uuid, 'missing'), client.token)).status).toBe(404);
    await expect(client.send(routes.contentsBlob(bundle.uuid, 'missing'), { framed: true })).rejects.toThrow(/missing/);
    // A new user's bundles are private to them: another user reads nothing, framed or not.
    await client.send('/rest/users', { json: { user_name: 'framed-other', password: 'framed-other-password' } });
    const other = await loggedInClient(testServer.server.url, 'framed-other', 'framed-other-password');
    expect((await upgradeAnswer(routes.contentsBlob(bundle.uuid, ''), other.token)).status).toBe(403);
    await expect(other.send(routes.contentsBlob(bundle.uuid, ''), { framed: true })).rejects.toThrow(/is private/);
  });
});
