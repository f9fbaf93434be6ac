// Contents moved as frames on a connection taken over with HTTP Upgrade, against a real server on
// loopback. Downloads: the server switches only where asked and only for store reads; the client
// reads the same bytes and headers either way. Uploads: the server switches only once the caller
// may upload; a cut connection fails the bundle with a message; a proxy that drops Upgrade gets a
// 426 that stores nothing, and the client then sends the body plainly. Refusals stay plain HTTP.
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
import { decodeFrames, sendFramed } from '../common/frames.js';
import { HANG_DEADLINE_MS, waitFor } from '../../test/support/wait-for.js';
import { Bundle, FRAMED_UPLOAD_HEADER, FRAMES_PROTOCOL, TARGET_TYPE_HEADER, Worksheet, routes } from '../protocol/index.js';
import { FaultProxy } from '../../test/support/fault-proxy.js';
import { loggedInClient, startTestServer, type TestServer } from './test-server.js';

let testServer: TestServer;
let client: HttpClient;
let scratch: string;
let proxy: FaultProxy;
const big = randomBytes(3 * 1024 * 1024 + 17);
const UPLOAD_LIMIT = 8 * 1024 * 1024;

beforeAll(async () => {
  testServer = await startTestServer({ maxUploadBytes: UPLOAD_LIMIT });
  client = testServer.client;
  scratch = await mkdtemp(join(tmpdir(), 'cl-framed-'));
  proxy = new FaultProxy(testServer.server.url);
  await proxy.start();
});

afterAll(async () => {
  await proxy.close();
  await testServer.stop();
  await rm(scratch, { recursive: true, force: true });
});

async function newDataset(name: string): Promise<Bundle> {
  const worksheet = await client.json(routes.homeWorksheet(), Worksheet);
  return client.json(routes.createBundle(worksheet.uuid), Bundle, { json: { bundle_type: 'dataset', metadata: { name } } });
}

async function dataset(name: string, body: Readable, filename: string, unpack: boolean): Promise<Bundle> {
  const bundle = await newDataset(name);
  return client.json(routes.uploadContents(bundle.uuid, { unpack, filename }), Bundle, { method: 'PUT', body });
}

/**
 * What the server answers a request without a body that asks for frames (unless `headers` replace
 * or, given as undefined, drop those headers): the status line's code (101: it switched), headers.
 */
function upgradeAnswer(
  path: string,
  token: string | undefined,
  options: { method?: string; headers?: Record<string, string | undefined> } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders }> {
  const wanted = { connection: 'Upgrade', upgrade: FRAMES_PROTOCOL, 'content-length': '0', ...(token ? { authorization: `Bearer ${token}` } : {}), ...options.headers };
  // A header given as undefined is left out.
  const headers = Object.fromEntries(Object.entries(wanted).filter((entry): entry is [string, string] => entry[1] !== undefined));
  return new Promise((resolve, reject) => {
    const request = http.request(`${testServer.server.url}${path}`, { method: options.method ?? 'GET', headers });
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

/**
 * A framed upload by hand: the 101 (or the plain answer), then `frames` written, then the framed
 * answer as `{ status, body }`; `cutAfter` bytes of frames are sent before the connection is cut.
 */
function uploadByHand(path: string, body: Buffer, options: { token?: string; cutAfter?: number } = {}): Promise<{ switched: boolean; status: number; body: unknown }> {
  const headers = { connection: 'Upgrade', upgrade: FRAMES_PROTOCOL, [FRAMED_UPLOAD_HEADER]: '1', 'content-length': '0', authorization: `Bearer ${options.token ?? client.token}` };
  return new Promise((resolve, reject) => {
    const request = http.request(`${testServer.server.url}${path}`, { method: 'PUT', headers });
    request.once('error', reject);
    request.once('response', (answer) => {
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.once('end', () => resolve({ switched: false, status: answer.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }));
    });
    request.once('upgrade', (_answer, socket, head) => {
      if (options.cutAfter !== undefined) {
        socket.write(Buffer.concat([Buffer.from([0, 0, 0x10, 0]), body.subarray(0, options.cutAfter)]), () => socket.destroy());
        socket.once('close', () => resolve({ switched: true, status: 0, body: null }));
        return;
      }
      const answer = decodeFrames();
      const chunks: Buffer[] = [];
      answer.on('data', (chunk: Buffer) => chunks.push(chunk));
      answer.once('end', () => {
        socket.destroy();
        const parsed = JSON.parse(Buffer.concat(chunks).toString()) as { status: number; body: unknown };
        resolve({ switched: true, ...parsed });
      });
      answer.once('error', reject);
      socket.on('error', () => undefined);
      if (head.length > 0) answer.write(head);
      socket.pipe(answer);
      void sendFramed(Readable.from([body]), socket, { keepOpen: true });
    });
    request.end();
  });
}

describe('hostile upgrades', () => {
  it('refuses an upgrade to any other protocol, changing nothing', async () => {
    const bundle = await newDataset('other-protocol');
    const path = routes.uploadContents(bundle.uuid, { unpack: false, filename: 'x' });
    const { status } = await upgradeAnswer(path, client.token, { method: 'PUT', headers: { upgrade: 'websocket' } });
    expect(status).toBe(400);
    expect((await client.json(routes.bundle(bundle.uuid), Bundle)).state).toBe('uploading');
  });

  it('refuses an upgrade that declares an HTTP body, and an upload switched without the marker, storing nothing', async () => {
    const bundle = await newDataset('upgrade-with-body');
    const path = routes.uploadContents(bundle.uuid, { unpack: false, filename: 'x' });
    expect((await upgradeAnswer(path, client.token, { method: 'PUT', headers: { 'content-length': '5' } })).status).toBe(400);
    expect((await upgradeAnswer(routes.createBundle('x'), client.token, { method: 'POST' })).status).toBe(400);
    expect((await upgradeAnswer(path, client.token, { method: 'PUT' })).status).toBe(400);
    expect((await client.json(routes.bundle(bundle.uuid), Bundle)).state).toBe('uploading');
  });

  it("refuses a user's token on a worker's dependency route before switching", async () => {
    const bundle = await dataset('dep-read', Readable.from([big]), 'big.bin', false);
    const answer = await upgradeAnswer(routes.dependencyBlob('some-worker', bundle.uuid, ''), client.token);
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
  });
});

describe('framed uploads', () => {
  const upload = (uuid: string, filename = 'big.bin') => routes.uploadContents(uuid, { unpack: false, filename });

  it('switches once the caller may upload, stores the exact bytes, and answers with the bundle', async () => {
    const bundle = await newDataset('framed-up');
    const answer = await uploadByHand(upload(bundle.uuid), big);
    expect(answer).toMatchObject({ switched: true, status: 200, body: { uuid: bundle.uuid, state: 'ready' } });
    expect((await (await client.send(routes.contentsBlob(bundle.uuid, ''))).buffer()).equals(big)).toBe(true);
  });

  it('sends a directory through HttpClient as frames and unpacks it', async () => {
    const bundle = await newDataset('framed-dir');
    const source = join(scratch, 'up');
    await mkdir(source);
    await writeFile(join(source, 'big.bin'), big);
    const tarStream = Readable.from(tar.c({ cwd: source, portable: true }, ['big.bin']) as unknown as AsyncIterable<Buffer>);
    const stored = await client.json(routes.uploadContents(bundle.uuid, { unpack: true, filename: 'x.tar' }), Bundle, { method: 'PUT', body: tarStream, framed: true });
    expect(stored).toMatchObject({ state: 'ready', is_dir: true, metadata: { data_size: big.length } });
  });

  it('refuses in plain HTTP, before switching, a caller who may not upload there', async () => {
    const bundle = await newDataset('framed-theirs');
    await client.send('/rest/users', { json: { user_name: 'framed-uploader', password: 'framed-uploader-password' } });
    const other = await loggedInClient(testServer.server.url, 'framed-uploader', 'framed-uploader-password');
    const answer = await uploadByHand(upload(bundle.uuid), big, other.token === undefined ? {} : { token: other.token });
    expect(answer).toMatchObject({ switched: false, status: 403 });
    expect((await client.json(routes.bundle(bundle.uuid), Bundle)).state).toBe('uploading');
  });

  it('fails the bundle, saying why, when the connection is cut part-way', async () => {
    const bundle = await newDataset('framed-cut');
    expect((await uploadByHand(upload(bundle.uuid), big, { cutAfter: 100_000 })).switched).toBe(true);
    const failed = await waitFor(
      async () => {
        const b = await client.json(routes.bundle(bundle.uuid), Bundle);
        return b.state === 'failed' ? b : undefined;
      },
      HANG_DEADLINE_MS,
      'the cut upload to fail',
    );
    expect(failed.metadata.failure_message).toMatch(/connection closed before the whole upload arrived/);
  });

  it('answers an upload over the limit as soon as it passes it, and the client stops sending', async () => {
    const bundle = await newDataset('framed-big');
    const tooBig = Readable.from((function* () {
      for (let i = 0; i < 64; i += 1) yield randomBytes(1024 * 1024);
    })());
    await expect(
      client.json(upload(bundle.uuid), Bundle, { method: 'PUT', body: tooBig, framed: true }),
    ).rejects.toThrow(/larger than the server's limit of 8388608 bytes/);
    expect(tooBig.destroyed).toBe(true);
    expect((await client.json(routes.bundle(bundle.uuid), Bundle)).state).toBe('failed');
  });

  it('through a proxy that drops Upgrade: 426 stores nothing, and HttpClient sends the body plainly', async () => {
    const bundle = await newDataset('framed-proxied');
    // What a proxy that drops hop-by-hop headers passes on: the marker, but no Upgrade.
    const { status: refused } = await upgradeAnswer(upload(bundle.uuid), client.token, {
      method: 'PUT',
      headers: { connection: 'keep-alive', upgrade: undefined, [FRAMED_UPLOAD_HEADER]: '1' },
    });
    expect(refused).toBe(426);
    expect((await client.json(routes.bundle(bundle.uuid), Bundle)).state).toBe('uploading');

    const viaProxy = new HttpClient({ baseUrl: proxy.url, token: client.token });
    const stored = await viaProxy.json(upload(bundle.uuid), Bundle, { method: 'PUT', body: Readable.from([big]), framed: true });
    expect(stored.state).toBe('ready');
    expect((await (await viaProxy.send(routes.contentsBlob(bundle.uuid, ''), { framed: true })).buffer()).equals(big)).toBe(true);
  });
});
