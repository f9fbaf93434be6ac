// streamRequest against a real HTTP server on loopback: a body is piped through whole, and an
// error answer sent before the body was read stops the upload instead of streaming it all.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, truncateSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, expect, it } from 'vitest';
import { streamRequest } from './stream-request.js';
import { waitUntil } from '../../test/support/wait-for.js';

let server: Server | null = null;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

async function listen(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

it('pipes the whole body and returns the answer', async () => {
  const url = await listen((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => (bytes += chunk.length));
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ bytes, method: req.method })));
  });
  const chunk = Buffer.alloc(1024 * 1024, 7);
  const answer = await streamRequest(`${url}/x`, { method: 'PUT', headers: {}, body: Readable.from([chunk, chunk, chunk]) });
  expect(answer.status).toBe(200);
  expect(answer.headers['content-type']).toBe('application/json');
  expect(JSON.parse(answer.text)).toEqual({ bytes: 3 * 1024 * 1024, method: 'PUT' });
});

it('stops producing the body once the server answered with an error', async () => {
  const url = await listen((_req, res) => res.writeHead(404).end('{"error":{"code":"not_found","message":"gone"}}'));
  let produced = 0;
  const body = new Readable({
    read() {
      produced += 1;
      // An endless body: only an answer that stops the upload lets this request end.
      this.push(Buffer.alloc(64 * 1024));
    },
  });
  const answer = await streamRequest(`${url}/x`, { method: 'PUT', headers: {}, body });
  expect(answer.status).toBe(404);
  expect(body.destroyed).toBe(true);
  expect(produced).toBeLessThan(10_000);
});

it('rejects with the body error when the body fails', async () => {
  const url = await listen((req, res) => req.resume().on('end', () => res.end('{}')));
  const body = new Readable({
    read() {
      this.destroy(new Error('disk read failed'));
    },
  });
  await expect(streamRequest(`${url}/x`, { method: 'PUT', headers: {}, body })).rejects.toThrow('disk read failed');
});

it('sends a file slice whole, and closes its handle', async () => {
  const url = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => res.writeHead(200).end(Buffer.concat(chunks).toString('hex')));
  });
  const data = randomBytes(2.5 * 1024 * 1024);
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'stream-request-')), 'data.bin');
  writeFileSync(file, data);
  const handle = await open(file);
  const answer = await streamRequest(`${url}/x`, { method: 'PUT', headers: {}, body: { handle, start: 5, end: data.length } });
  expect(answer.text).toBe(data.subarray(5).toString('hex'));
  await waitUntil(() => handle.fd === -1, 'the file handle to close');
});

it('stops reading a file slice once the server answered with an error, and closes it', async () => {
  const url = await listen((_req, res) => res.writeHead(404).end('{"error":{"code":"not_found","message":"gone"}}'));
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'stream-request-')), 'sparse.bin');
  writeFileSync(file, '');
  truncateSync(file, 8 * 1024 ** 3); // 8 GiB of holes: sending it all would take far longer than the test
  const handle = await open(file);
  const answer = await streamRequest(`${url}/x`, { method: 'PUT', headers: {}, body: { handle, start: 0, end: 8 * 1024 ** 3 } });
  expect(answer.status).toBe(404);
  await waitUntil(() => handle.fd === -1, 'the file handle to close');
});
