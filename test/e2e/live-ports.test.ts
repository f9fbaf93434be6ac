// End-to-end: `cl netcat` and the HTTP proxy reach ports of a running bundle through the server
// and the worker (which connects to the container), with a real cl-server, a real cl-worker on
// Docker, and bin/cl as a subprocess (issue 5, its optional part).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, DEFAULT_IMAGE, waitFor } from './harness.js';

/** A TCP server on 8000 (answers `echo:` and the message reversed, once the client closed its side) and an HTTP echo server on 8080. */
const SERVERS_PY = String.raw`
import json, socket, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

def tcp():
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(('0.0.0.0', 8000))
    listener.listen()
    while True:
        conn, _ = listener.accept()
        data = b''
        while True:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        conn.sendall(b'echo:' + data[::-1])
        conn.close()

class Echo(BaseHTTPRequestHandler):
    def answer(self):
        length = int(self.headers.get('content-length') or 0)
        seen = {
            'method': self.command, 'path': self.path, 'body': self.rfile.read(length).decode(),
            'host': self.headers.get('host'), 'authorization': self.headers.get('authorization'),
            'x_test': self.headers.get('x-test'), 'prefix': self.headers.get('x-forwarded-prefix'),
        }
        out = json.dumps(seen).encode()
        self.send_response(201 if self.command == 'POST' else 200)
        self.send_header('content-type', 'application/json')
        self.send_header('x-bundle', 'yes')
        self.send_header('set-cookie', 'a=1')
        self.send_header('set-cookie', 'b=2')
        self.send_header('content-length', str(len(out)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(out)
    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = answer
    def log_message(self, *args):
        pass

threading.Thread(target=tcp, daemon=True).start()
server = ThreadingHTTPServer(('0.0.0.0', 8080), Echo)
print('listening', flush=True)
server.serve_forever()
`;

let cluster: Cluster;
let token = '';
let run = '';

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE]);
  cluster.startWorker({ id: 'e2e-ports', extraArgs: ['--slots', '2', '--gpuset', 'NONE'] });
  expect(await cluster.cl(['work', `${cluster.url}::`]), cluster.describeLogs()).toMatchObject({ code: 0 });
  token = await cluster.token();
  const dir = join(cluster.root, 'servers');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'servers.py'), SERVERS_PY);
  const code = await cluster.clOk(['upload', dir]);
  run = await cluster.clOk(['run', 'code:' + code, 'python3 code/servers.py', '--request-network', '-n', 'servers']);
  await cluster.waitForState(run, ['running']);
  await waitFor(async () => {
    const cat = await cluster.cl(['cat', `${run}/stdout`]);
    return cat.stdout.includes('listening') ? true : undefined;
  }, 90_000, 'the servers to listen');
}, 180_000);

afterAll(async () => {
  await cluster?.stop();
});

function proxy(path: string, init: RequestInit = {}, withToken = true): Promise<Response> {
  const headers = new Headers(init.headers);
  if (withToken) headers.set('authorization', `Bearer ${token}`);
  return fetch(`${cluster.url}/rest/bundles/${run}/netcurl/8080${path}`, { ...init, headers });
}

describe('cl netcat', () => {
  it('sends the message, closes its side, and prints the whole answer', async () => {
    const result = await cluster.cl(['netcat', 'servers', '8000', 'hello']);
    expect(result, cluster.describeLogs()).toMatchObject({ code: 0, stdout: 'echo:olleh', stderr: '' });
  });

  it('sends a file, or standard input with -f -, byte for byte', async () => {
    const file = join(cluster.root, 'message.bin');
    writeFileSync(file, Buffer.from([0, 1, 2, 255]));
    const fromFile = await cluster.cl(['netcat', run, '8000', '-f', file]);
    expect(fromFile.code, fromFile.stderr).toBe(0);
    expect(fromFile.stdoutBytes).toEqual(Buffer.concat([Buffer.from('echo:'), Buffer.from([255, 2, 1, 0])]));
    const fromStdin = await cluster.cl(['netcat', run, '8000', '-f', '-'], { input: 'abc\n' });
    expect(fromStdin).toMatchObject({ code: 0, stdout: 'echo:\ncba' });
  });

  it('takes the REST message as raw bytes whatever its declared type, up to its limit', async () => {
    const put = (body: string | Uint8Array<ArrayBuffer>, type: string): Promise<Response> =>
      fetch(`${cluster.url}/rest/bundles/${run}/netcat/8000`, { method: 'PUT', body, headers: { authorization: `Bearer ${token}`, 'content-type': type } });
    const json = await put('{"a":1}', 'application/json');
    expect(json.status).toBe(200);
    expect(await json.text()).toBe('echo:}1:"a"{');
    const tooLarge = await put(new Uint8Array(1024 * 1024 + 1), 'application/octet-stream');
    expect(tooLarge.status).toBe(413);
    expect(((await tooLarge.json()) as { error: { code: string } }).error.code).toBe('too_large');
  });

  it('says so in one line when nothing listens on the port', async () => {
    const result = await cluster.cl(['netcat', run, '8009', 'hello']);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`Nothing listens on port 8009 of bundle ${run}`);
    expect(result.stderr).toContain('0.0.0.0:8009');
  });

  it('refuses a bad port, a missing message, and a path, before asking the server', async () => {
    const badPort = await cluster.cl(['netcat', run, '80000', 'x']);
    expect(badPort).toMatchObject({ code: 1 });
    expect(badPort.stderr).toContain("Port '80000' is not a number from 1 to 65535.");
    const noMessage = await cluster.cl(['netcat', run, '8000']);
    expect(noMessage.stderr).toContain('Give a message to send, or -f FILE');
    const path = await cluster.cl(['netcat', `${run}/stdout`, '8000', 'x']);
    expect(path.stderr).toContain('Name a bundle, not a path inside one');
  });

  it('refuses a run without a network, and a bundle that is not running, naming why', async () => {
    const isolated = await cluster.clOk(['run', 'sleep 300', '--request-network', 'false']);
    await cluster.waitForState(isolated, ['running']);
    const noNetwork = await cluster.cl(['netcat', isolated, '8000', 'x']);
    expect(noNetwork.code).toBe(1);
    expect(noNetwork.stderr).toContain('runs without a network');
    await cluster.clOk(['kill', isolated]);
    await cluster.waitForState(isolated, ['killed']);
    const ended = await cluster.cl(['netcat', isolated, '8000', 'x']);
    expect(ended.code).toBe(1);
    expect(ended.stderr).toContain(`Bundle ${isolated} is killed, not running any more`);
  }, 120_000);
});

describe('the HTTP proxy to a port of a running bundle', () => {
  it('forwards method, path and query; answers with the status, headers and body of the bundle', async () => {
    const response = await proxy('/some/path?q=1&r=two');
    expect(response.status, cluster.describeLogs()).toBe(200);
    expect(response.headers.get('x-bundle')).toBe('yes');
    expect(response.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
    const seen = (await response.json()) as Record<string, string | null>;
    expect(seen).toMatchObject({
      method: 'GET',
      path: '/some/path?q=1&r=two',
      host: 'localhost:8080',
      authorization: null,
      prefix: `/rest/bundles/${run}/netcurl/8080`,
    });
  });

  it('forwards a request body and end-to-end headers, but never the access token', async () => {
    const response = await proxy('/submit', { method: 'POST', body: '{"x": 1}', headers: { 'content-type': 'application/json', 'x-test': 'kept' } });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ method: 'POST', path: '/submit', body: '{"x": 1}', x_test: 'kept', authorization: null });
  });

  it('answers HEAD and the bare root', async () => {
    const head = await proxy('', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
    const root = await proxy('/');
    expect(((await root.json()) as { path: string }).path).toBe('/');
  });

  it('needs a token, and names a port with nothing behind it', async () => {
    expect((await proxy('/', {}, false)).status).toBe(401);
    const closed = await fetch(`${cluster.url}/rest/bundles/${run}/netcurl/8009/`, { headers: { authorization: `Bearer ${token}` } });
    expect(closed.status).toBe(503);
    expect(((await closed.json()) as { error: { message: string } }).error.message).toContain('Nothing listens on port 8009');
  });
});
