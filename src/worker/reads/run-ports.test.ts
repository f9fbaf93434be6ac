// The worker's half of netcat and the HTTP proxy, against real TCP and HTTP servers on loopback
// standing in for a container's ports (the address a run gives is 127.0.0.1 here).
import http from 'node:http';
import net from 'node:net';
import { isFileSlice } from '../../common/file-slice.js';
import { afterEach, describe, expect, it } from 'vitest';
import type { LiveReplyHeader, PortMessage, PortRequest } from '../../protocol/index.js';
import { servePortRequest } from './run-ports.js';
import type { LiveRun } from './run-reads.js';

const UUID = `0x${'a'.repeat(32)}`;
const servers: Array<net.Server | http.Server> = [];
const connections = new Set<net.Socket>();

afterEach(async () => {
  for (const socket of connections) socket.destroy();
  connections.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

function runAt(address: string | null): LiveRun {
  return { files: { runDir: '/nonexistent', mounts: [] }, isLive: () => true, chownTo: null, containerAddress: async () => address };
}

async function listen<S extends net.Server | http.Server>(server: S): Promise<number> {
  servers.push(server);
  server.on('connection', (socket: net.Socket) => connections.add(socket));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

/** A port nothing listens on: bound once, then closed. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function ask(run: LiveRun | null, port: number, request: PortRequest, timeouts = { connectMs: 2000, idleMs: 2000 }): Promise<{ header: LiveReplyHeader; body: Buffer }> {
  const message: PortMessage = { type: 'port', request_id: 'r1', uuid: UUID, assignment_id: 'a1', port, request };
  let sent: { header: LiveReplyHeader; body: Buffer } | undefined;
  await servePortRequest(
    run,
    message,
    async (_id, header, body) => {
      if (isFileSlice(body)) throw new Error('a port reply is a stream, not a file slice');
      const chunks: Buffer[] = [];
      for await (const chunk of body) chunks.push(chunk as Buffer);
      sent = { header, body: Buffer.concat(chunks) };
    },
    new AbortController().signal,
    timeouts,
  );
  if (!sent) throw new Error('no reply was sent');
  return sent;
}

const netcat = (text: string): PortRequest => ({ kind: 'netcat', message_base64: Buffer.from(text).toString('base64') });

describe('netcat to a port of a run', () => {
  it('sends the message, closes its side, and replies with everything until the port closes', async () => {
    const port = await listen(
      net.createServer((socket) => {
        const chunks: Buffer[] = [];
        socket.on('data', (c: Buffer) => chunks.push(c));
        socket.on('end', () => socket.end(`got ${Buffer.concat(chunks).toString()}`));
      }),
    );
    const reply = await ask(runAt('127.0.0.1'), port, netcat('ping'));
    expect(reply.header).toEqual({ ok: true });
    expect(reply.body.toString()).toBe('got ping');
  });

  it('ends the answer with what came when the port falls silent', async () => {
    const port = await listen(net.createServer((socket) => socket.write('partial')));
    const reply = await ask(runAt('127.0.0.1'), port, netcat('x'), { connectMs: 2000, idleMs: 300 });
    expect(reply.header.ok).toBe(true);
    expect(reply.body.toString()).toBe('partial');
  });

  it('names the port and the 0.0.0.0 hint when nothing listens', async () => {
    const port = await closedPort();
    const reply = await ask(runAt('127.0.0.1'), port, netcat('x'));
    expect(reply.header.ok).toBe(false);
    expect(reply.header.error?.code).toBe('unavailable');
    expect(reply.header.error?.message).toContain(`Nothing listens on port ${port} of bundle ${UUID}`);
    expect(reply.header.error?.message).toContain(`0.0.0.0:${port}`);
  });

  it('answers conflict for a run it no longer holds or one with no address', async () => {
    expect((await ask(null, 1, netcat('x'))).header.error).toMatchObject({ code: 'conflict', message: expect.stringContaining('no longer running') });
    expect((await ask(runAt(null), 1, netcat('x'))).header.error).toMatchObject({ code: 'conflict', message: expect.stringContaining('no address') });
  });
});

describe('HTTP proxy to a port of a run', () => {
  it('forwards method, path, body and end-to-end headers; drops hop-by-hop ones both ways', async () => {
    let seen: { method?: string; url?: string; headers?: http.IncomingHttpHeaders; body?: string } = {};
    const port = await listen(
      http.createServer((request, response) => {
        const chunks: Buffer[] = [];
        request.on('data', (c: Buffer) => chunks.push(c));
        request.on('end', () => {
          seen = { method: request.method, url: request.url, headers: request.headers, body: Buffer.concat(chunks).toString() };
          response.writeHead(202, { 'x-answer': 'yes', 'keep-alive': 'timeout=5', 'set-cookie': ['a=1', 'b=2'] });
          response.end('done');
        });
      }),
    );
    const reply = await ask(runAt('127.0.0.1'), port, {
      kind: 'http',
      method: 'POST',
      path: '/a/b?c=d',
      headers: [['X-Test', 'kept'], ['Connection', 'upgrade'], ['Upgrade', 'websocket'], ['Host', 'server:2900'], ['Content-Length', '999']],
      body_base64: Buffer.from('payload').toString('base64'),
    });
    expect(seen).toMatchObject({ method: 'POST', url: '/a/b?c=d', body: 'payload' });
    expect(seen.headers).toMatchObject({ 'x-test': 'kept', host: `localhost:${port}`, 'content-length': '7' });
    expect(seen.headers?.upgrade).toBeUndefined();
    expect(reply.header.status).toBe(202);
    const names = (reply.header.headers ?? []).map(([name]) => name.toLowerCase());
    expect(names).toContain('x-answer');
    expect(names).not.toContain('keep-alive');
    expect(names).not.toContain('transfer-encoding');
    expect((reply.header.headers ?? []).filter(([name]) => name.toLowerCase() === 'set-cookie').map(([, v]) => v)).toEqual(['a=1', 'b=2']);
    expect(reply.body.toString()).toBe('done');
  });

  it('fails with unavailable when the port does not answer in time', async () => {
    const port = await listen(http.createServer(() => undefined));
    const reply = await ask(runAt('127.0.0.1'), port, { kind: 'http', method: 'GET', path: '/', headers: [], body_base64: '' }, { connectMs: 2000, idleMs: 300 });
    expect(reply.header.error).toMatchObject({ code: 'unavailable', message: expect.stringContaining('did not answer within 0.3 s') });
  });
});
