// relayBody between real sockets on loopback: a worker's reply body reaches the client whole and in
// order, a body cut short reaches it as a cut answer (never a short one that looks whole), and a
// client that stops reading pauses the body instead of buffering it in the server.
import { randomBytes } from 'node:crypto';
import { createServer, get, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, expect, it } from 'vitest';
import { relayBody } from './relay-body.js';
import { waitUntil } from '../../../test/support/wait-for.js';

let server: Server | null = null;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = null;
});

/** Serves every request by relaying `makeBody()` into the response. */
async function relayServer(makeBody: () => Readable, headers: Record<string, string> = {}): Promise<string> {
  server = createServer((_req, res) => {
    res.writeHead(200, headers);
    relayBody(makeBody(), res);
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
}

function request(url: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => get(url, resolve).once('error', reject));
}

it('relays every chunk in order and ends the answer', async () => {
  const chunks = Array.from({ length: 40 }, (_, i) => randomBytes(64 * 1024 + i));
  const url = await relayServer(() => Readable.from(chunks));
  const response = await request(url);
  const received: Buffer[] = [];
  for await (const chunk of response) received.push(chunk as Buffer);
  expect(Buffer.concat(received).equals(Buffer.concat(chunks))).toBe(true);
});

it('cuts the answer when the body fails midway, so a short answer never looks whole', async () => {
  const url = await relayServer(() => {
    const body = new PassThrough();
    body.write(Buffer.alloc(256 * 1024, 1));
    setTimeout(() => body.destroy(new Error('the worker went away')), 50);
    return body;
  });
  const response = await request(url);
  let bytes = 0;
  const outcome = await new Promise<string>((resolve) => {
    response.on('data', (chunk: Buffer) => (bytes += chunk.length));
    response.once('end', () => resolve('end'));
    response.once('error', () => resolve('error'));
    response.once('aborted', () => resolve('aborted'));
  });
  expect(outcome).not.toBe('end');
  expect(bytes).toBeLessThanOrEqual(256 * 1024);
});

it('pauses the body while the client does not read, and resumes it when the client reads', async () => {
  let produced = 0;
  let body: Readable | null = null;
  // An endless body: without backpressure the server would buffer it until it ran out of memory.
  const url = await relayServer(() => {
    body = new Readable({
      read() {
        produced += 64 * 1024;
        this.push(Buffer.alloc(64 * 1024));
      },
    });
    return body;
  });
  const response = await request(url);
  response.pause();
  await waitUntil(() => body?.isPaused() === true, 'the body to pause');
  const pausedAt = produced;
  let read = 0;
  response.on('data', (chunk: Buffer) => (read += chunk.length));
  response.resume();
  await waitUntil(() => produced > pausedAt + 8 * 1024 * 1024, 'the body to resume');
  expect(read).toBeGreaterThan(0);
  response.destroy();
  (body as Readable | null)?.destroy();
});
