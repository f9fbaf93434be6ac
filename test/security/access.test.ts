// Attacks of one user on another's things, each made for real over HTTP on loopback against a
// real server (and, for ports of a running bundle, a real worker and container): writes to a
// worksheet of someone else, a fake worker, and password guessing. Each test checks the refusal
// and that nothing changed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WORKER_CLIENT_ID, routes, type Bundle, type WorkerInfo, type WorksheetContents, type WorksheetItems } from '../../src/protocol/index.js';
import type { Clock } from '../../src/common/clock.js';
import { startTestServer, type TestServer } from '../../src/server/test-server.js';
import { silentLogger } from '../../src/common/log.js';
import { withRetry } from '../../src/worker/retry.js';
import { WorkerServerApi } from '../../src/worker/server-api.js';
import { Cluster, DEFAULT_IMAGE, waitFor } from '../e2e/harness.js';
import { call, checkinBody, createUser, errorOf, login, type Answer } from './security-helpers.js';

describe("another user's worksheet", () => {
  let ts: TestServer;
  let url: string;
  let root: string;
  let alice: string;
  let bob: string;
  let aliceSheet: { uuid: string; name: string };
  let aliceData: Bundle;

  const contents = async (): Promise<WorksheetContents> =>
    (await call(url, 'GET', routes.worksheetContents(aliceSheet.uuid), { token: alice })).body as WorksheetContents;
  const items = async (): Promise<WorksheetItems> =>
    (await call(url, 'GET', `/rest/worksheets/${aliceSheet.uuid}/items`, { token: alice })).body as WorksheetItems;
  const bundleCount = async (): Promise<number> =>
    ((await call(url, 'POST', '/rest/bundles/search', { token: root, json: { keywords: ['.count'] } })).body as { result: number }).result;

  beforeAll(async () => {
    ts = await startTestServer();
    url = ts.server.url;
    root = ts.client.token ?? '';
    alice = (await createUser(url, root, 'alice')).token;
    bob = (await createUser(url, root, 'bob')).token;
    aliceSheet = (await call(url, 'GET', routes.homeWorksheet(), { token: alice })).body as { uuid: string; name: string };
    await call(url, 'GET', routes.homeWorksheet(), { token: bob });
    const created = await call(url, 'POST', routes.createBundle(aliceSheet.uuid), { token: alice, json: { bundle_type: 'dataset', metadata: { name: 'data' } } });
    aliceData = created.body as Bundle;
    const uploaded = await call(url, 'PUT', `/rest/bundles/${aliceData.uuid}/contents?filename=a.txt`, { token: alice, bytes: Buffer.from('hello') });
    expect(uploaded.status).toBe(200);
  });

  afterAll(async () => {
    await ts?.stop();
  });

  const attempts: Array<[string, () => unknown]> = [
    ['an upload', () => ({ bundle_type: 'dataset', metadata: { name: 'planted' } })],
    ['a run', () => ({ bundle_type: 'run', command: 'echo planted', metadata: { name: 'planted-run' }, dependencies: [] })],
    ['a make (and so a mimic, which creates through the same route)', () => ({
      bundle_type: 'make',
      metadata: { name: 'planted-make' },
      dependencies: [{ child_path: 'a', parent_uuid: aliceData.uuid, parent_path: '' }],
    })],
  ];

  for (const [what, body] of attempts) {
    it(`refuses ${what} created onto it, and creates nothing`, async () => {
      const before = await contents();
      const count = await bundleCount();
      const answer = await call(url, 'POST', routes.createBundle(aliceSheet.uuid), { token: bob, json: body() });
      expect(answer.status).toBe(403);
      expect(errorOf(answer).code).toBe('forbidden');
      expect(errorOf(answer).message).toContain(`Worksheet '${aliceSheet.name}' is private`);
      expect(await contents()).toEqual(before);
      expect(await bundleCount()).toBe(count);
    });
  }

  it('lets its owner and root create bundles on it', async () => {
    const own = await call(url, 'POST', routes.createBundle(aliceSheet.uuid), { token: alice, json: { bundle_type: 'dataset', metadata: { name: 'mine' } } });
    expect(own.status).toBe(200);
    const byRoot = await call(url, 'POST', routes.createBundle(aliceSheet.uuid), { token: root, json: { bundle_type: 'dataset', metadata: { name: 'roots' } } });
    expect(byRoot.status).toBe(200);
    // Root's bundle is root's: on alice's private worksheet it gets no grant, so she sees a placeholder.
    const listed = (await contents()).bundles.map((b) => ('metadata' in b ? b.metadata.name : b));
    expect(listed).toEqual(expect.arrayContaining(['mine', { uuid: (byRoot.body as Bundle).uuid, private: true }]));
  });

  it('refuses uploading contents into its owner\'s new dataset', async () => {
    const fresh = (await call(url, 'POST', routes.createBundle(aliceSheet.uuid), { token: alice, json: { bundle_type: 'dataset', metadata: { name: 'empty' } } })).body as Bundle;
    const answer = await call(url, 'PUT', `/rest/bundles/${fresh.uuid}/contents?filename=x.txt`, { token: bob, bytes: Buffer.from('planted') });
    expect(answer.status).toBe(403);
    const after = (await call(url, 'GET', routes.bundle(fresh.uuid), { token: alice })).body as Bundle;
    expect(after.state).toBe('uploading');
  });

  it('refuses adding items (bundles and text), detaching, and deleting the worksheet', async () => {
    const before = await items();
    const bobSheet = (await call(url, 'GET', routes.homeWorksheet(), { token: bob })).body as { uuid: string };
    const mine = (await call(url, 'POST', routes.createBundle(bobSheet.uuid), { token: bob, json: { bundle_type: 'dataset', metadata: { name: 'bobs' } } })).body as Bundle;
    const add = await call(url, 'POST', `/rest/worksheets/${aliceSheet.uuid}/items`, { token: bob, json: { type: 'bundle', bundle_uuid: mine.uuid } });
    const text = await call(url, 'POST', `/rest/worksheets/${aliceSheet.uuid}/items`, { token: bob, json: { type: 'markup', value: 'planted' } });
    const detach = await call(url, 'DELETE', `/rest/worksheets/${aliceSheet.uuid}/items/${aliceData.uuid}`, { token: bob });
    const wrm = await call(url, 'DELETE', `/rest/worksheets/${aliceSheet.uuid}?force=1`, { token: bob });
    for (const answer of [add, text, detach, wrm]) {
      expect(answer.status).toBe(403);
      expect(errorOf(answer).message).toContain('is private');
    }
    expect(await items()).toEqual(before);
  });

  it("refuses creating a worksheet under another user's home name", async () => {
    const squat = await call(url, 'POST', '/rest/worksheets', { token: bob, json: { name: 'home-dave' } });
    expect(squat.status).toBe(403);
    expect(errorOf(squat).message).toContain("'home-'");
    const found = await call(url, 'GET', '/rest/worksheets?spec=home-dave', { token: root });
    expect(found.status).toBe(404);
  });

  it("refuses editing and deleting the owner's bundles", async () => {
    const edit = await call(url, 'PATCH', routes.bundle(aliceData.uuid), { token: bob, json: { metadata: { name: 'renamed' } } });
    const remove = await call(url, 'POST', '/rest/bundles/delete', { token: bob, json: { uuids: [aliceData.uuid], force: true } });
    expect(edit.status).toBe(403);
    expect(remove.status).toBe(403);
    const after = (await call(url, 'GET', routes.bundle(aliceData.uuid), { token: alice })).body as Bundle;
    expect(after).toMatchObject({ state: 'ready', metadata: { name: 'data' } });
  });
});

describe("a user's own worker", () => {
  let ts: TestServer;
  let url: string;
  let root: string;
  let bob: string;
  let carol: string;
  let alice: string;
  let bobWorker: string;
  let rootWorker: string;

  beforeAll(async () => {
    ts = await startTestServer({ schedulerIntervalMs: 50 });
    url = ts.server.url;
    root = ts.client.token ?? '';
    alice = (await createUser(url, root, 'alice')).token;
    bob = (await createUser(url, root, 'bob')).token;
    carol = (await createUser(url, root, 'carol')).token;
    bobWorker = await login(url, 'bob', 'bob-password', WORKER_CLIENT_ID);
    rootWorker = ts.workerClient.token ?? '';
    const fake = checkinBody({ hostname: 'fake', cpus: 64, memory_bytes: 931 * 1024 ** 3 });
    const checkin = await call(url, 'POST', routes.checkin('fake'), { token: bobWorker, json: fake });
    expect(checkin.status).toBe(200);
  });

  afterAll(async () => {
    await ts?.stop();
  });

  const workerIds = async (token: string): Promise<string[]> =>
    ((await call(url, 'GET', routes.workersInfo(), { token })).body as WorkerInfo[]).map((w) => `${w.owner_name}/${w.id}`).sort();

  it("never gets another user's staged run, which waits with the reason; its owner's run goes to it", async () => {
    const runOn = async (token: string, name: string): Promise<string> => {
      const sheet = (await call(url, 'GET', routes.homeWorksheet(), { token })).body as { uuid: string };
      const answer = await call(url, 'POST', routes.createBundle(sheet.uuid), {
        token, json: { bundle_type: 'run', command: 'echo hi', metadata: { name, request_cpus: 1 }, dependencies: [] },
      });
      expect(answer.status).toBe(200);
      return (answer.body as Bundle).uuid;
    };
    const stranger = await runOn(alice, 'alices');
    const byRoot = await runOn(root, 'roots');
    const reasonOf = async (uuid: string): Promise<string | undefined> => {
      const bundle = (await call(url, 'GET', routes.bundle(uuid), { token: root })).body as Bundle;
      const reason = bundle.metadata.staged_status;
      return bundle.state === 'staged' && typeof reason === 'string' && reason.includes('belong') ? reason : undefined;
    };
    expect(await waitFor(() => reasonOf(stranger), 10_000, 'the run to wait with a reason')).toContain('belongs to another user');
    expect(await waitFor(() => reasonOf(byRoot), 10_000, "root's run to wait with a reason")).toContain('belongs to another user');
    // Bob's own run goes to his worker: the scheduler has run a pass with the fake worker in it.
    const own = await runOn(bob, 'bobs');
    await waitFor(async () => {
      const bundle = (await call(url, 'GET', routes.bundle(own), { token: bob })).body as Bundle;
      return bundle.state === 'starting' ? true : undefined;
    }, 10_000, "bob's run to be sent to his worker");
    const messages = await call(url, 'GET', routes.messages('fake', 0), { token: bobWorker });
    const runs = (messages.body as { messages: Array<{ type: string; run?: { uuid: string } }> }).messages.filter((m) => m.type === 'run').map((m) => m.run?.uuid);
    expect(runs).toEqual([own]);
    for (const uuid of [stranger, byRoot]) {
      expect(((await call(url, 'GET', routes.bundle(uuid), { token: root })).body as Bundle).state).toBe('staged');
    }
  });

  it('is listed for its owner and root, not for a third user', async () => {
    // Root's workers are shared with everyone; checked in only now so that the run above had none.
    expect((await call(url, 'POST', routes.checkin('shared'), { token: rootWorker, json: checkinBody({ hostname: 'shared', tag: 'elsewhere', tag_exclusive: true }) })).status).toBe(200);
    expect(await workerIds(carol)).toEqual(['codalab/shared']);
    expect(await workerIds(bob)).toEqual(['bob/fake', 'codalab/shared']);
    expect(await workerIds(root)).toEqual(['bob/fake', 'codalab/shared']);
  });
});

describe('password guessing', () => {
  let ts: TestServer;
  let url: string;
  const clock = { at: Date.now(), now(): number { return this.at; } } satisfies Clock & { at: number };
  const WINDOW_S = 60;

  beforeAll(async () => {
    ts = await startTestServer(
      { loginLimits: { windowSeconds: WINDOW_S, maxFailuresPerAddress: 5, maxFailuresPerUser: 8 } },
      { clock },
    );
    url = ts.server.url;
  });

  afterAll(async () => {
    await ts?.stop();
  });

  const attempt = (password: string, from: string, username = 'codalab'): Promise<Answer> =>
    call(url, 'POST', routes.token(), { json: { grant_type: 'password', username, password }, localAddress: from });

  it('answers 429 with Retry-After after a burst of wrong passwords, refusing even the right one from that address', async () => {
    const answers: Answer[] = [];
    for (let i = 0; i < 30; i += 1) answers.push(await attempt(`wrong-${i}`, '127.0.0.1'));
    expect(answers.slice(0, 5).map((a) => a.status)).toEqual([401, 401, 401, 401, 401]);
    expect(new Set(answers.slice(5).map((a) => a.status))).toEqual(new Set([429]));
    const limited = answers[29] as Answer;
    expect(errorOf(limited).code).toBe('too_many_requests');
    expect(errorOf(limited).message).toMatch(/try again in \d+ s/);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(limited.headers['retry-after'])).toBeLessThanOrEqual(WINDOW_S);

    const right = await attempt('secret-root', '127.0.0.1');
    expect(right.status).toBe(429);
  });

  it('makes cl say in one line that logins are limited and when to try again', async () => {
    const user = new Cluster();
    const result = await user.cl(['work', `${url}::`], { env: { CODALAB_PASSWORD: 'secret-root' } });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/Too many failed logins from 127\.0\.0\.1: try again in \d+ s/);
  });

  it('still lets the right password in from an address without recent failures', async () => {
    const clean = await attempt('secret-root', '127.0.0.2');
    expect(clean.status).toBe(200);
  });

  it('limits guesses at one user from many addresses, but never locks out a clean address', async () => {
    // 5 failures so far (from .1); 3 more from .3 reach the per-user limit of 8.
    for (let i = 0; i < 3; i += 1) expect((await attempt(`guess-${i}`, '127.0.0.3')).status).toBe(401);
    const next = await attempt('guess-more', '127.0.0.3');
    expect(next.status).toBe(429);
    expect(errorOf(next).message).toContain("'codalab'");
    expect((await attempt('secret-root', '127.0.0.3')).status).toBe(429);
    expect((await attempt('secret-root', '127.0.0.4')).status).toBe(200);
  });

  it('lets the address in again once the window has passed', async () => {
    expect((await attempt('secret-root', '127.0.0.1')).status).toBe(429);
    clock.at += (WINDOW_S + 1) * 1000;
    expect((await attempt('secret-root', '127.0.0.1')).status).toBe(200);
    expect((await attempt('secret-root', '127.0.0.3')).status).toBe(200);
  });
});

describe("a worker's login while its address is limited", () => {
  it('waits as long as Retry-After says, then logs in', async () => {
    const clock = { at: Date.now(), now(): number { return this.at; } } satisfies Clock & { at: number };
    const ts = await startTestServer({ loginLimits: { windowSeconds: 1, maxFailuresPerAddress: 1, maxFailuresPerUser: 100 } }, { clock });
    try {
      expect((await call(ts.server.url, 'POST', routes.token(), { json: { grant_type: 'password', username: 'codalab', password: 'wrong' } })).status).toBe(401);
      const api = new WorkerServerApi({ serverUrl: ts.server.url, username: 'codalab', password: 'secret-root', workerId: 'w' });
      const warnings: string[] = [];
      const log = {
        ...silentLogger,
        warn: (line: string) => {
          warnings.push(line);
          // The window passes while the worker waits: its next try gets in.
          clock.at += 2_000;
        },
      };
      await withRetry(() => api.login(), { log, what: 'log in', initialDelayMs: 10 });
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/Too many failed logins from 127\.0\.0\.1: try again in 1 s.*retrying in 1s/);
      expect((await api.checkin(checkinBody())).checkin_seconds).toBeGreaterThan(0);
    } finally {
      await ts.stop();
    }
  });
});

describe("ports of another user's running bundle", () => {
  let cluster: Cluster;
  let rootToken = '';
  let bobToken = '';
  let run = '';
  const SERVER_PY = String.raw`
import sys, socket, threading
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
        print('tcp ' + data.decode(), flush=True)
        conn.sendall(b'ok')
        conn.close()

class Seen(BaseHTTPRequestHandler):
    def answer(self):
        length = int(self.headers.get('content-length') or 0)
        print('http %s %s %s' % (self.command, self.path, self.rfile.read(length).decode()), flush=True)
        self.send_response(200)
        self.send_header('content-length', '2')
        self.end_headers()
        self.wfile.write(b'ok')
    do_GET = do_POST = answer
    def log_message(self, *args):
        pass

threading.Thread(target=tcp, daemon=True).start()
server = ThreadingHTTPServer(('0.0.0.0', 8080), Seen)
print('listening', flush=True)
server.serve_forever()
`;

  beforeAll(async () => {
    cluster = new Cluster();
    await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE]);
    cluster.startWorker({ id: 'e2e-access', extraArgs: ['--slots', '1', '--gpuset', 'NONE'] });
    expect(await cluster.cl(['work', `${cluster.url}::`]), cluster.describeLogs()).toMatchObject({ code: 0 });
    rootToken = await login(cluster.url, 'codalab', cluster.rootPassword);
    bobToken = (await createUser(cluster.url, rootToken, 'bob', 'bob-password')).token;
    const file = join(cluster.root, 'seen.py');
    writeFileSync(file, SERVER_PY);
    const code = await cluster.clOk(['upload', file]);
    run = await cluster.clOk(['run', `seen.py:${code}`, 'python3 seen.py', '--request-network', '-n', 'seen']);
    await cluster.waitForState(run, ['running']);
    await waitFor(async () => ((await cluster.cl(['cat', `${run}/stdout`])).stdout.includes('listening') ? true : undefined), 90_000, 'the servers to listen');
  }, 180_000);

  afterAll(async () => {
    await cluster?.stop();
  });

  it('refuses netcat and the proxy to another user, and the server inside the run receives nothing', async () => {
    const netcat = await call(cluster.url, 'PUT', `/rest/bundles/${run}/netcat/8000`, { token: bobToken, bytes: Buffer.from('intruder-netcat') });
    const post = await call(cluster.url, 'POST', `/rest/bundles/${run}/netcurl/8080/submit`, { token: bobToken, json: { intruder: 'post' } });
    const get = await call(cluster.url, 'GET', `/rest/bundles/${run}/netcurl/8080/intruder-get`, { token: bobToken });
    for (const answer of [netcat, post, get]) {
      expect(answer.status).toBe(403);
      expect(errorOf(answer).message).toContain('is private');
    }
    // The owner's requests after the refused ones arrive; had the refused ones been relayed, they would be logged before these.
    const ownNetcat = await call(cluster.url, 'PUT', `/rest/bundles/${run}/netcat/8000`, { token: rootToken, bytes: Buffer.from('owner-netcat') });
    expect(ownNetcat.status).toBe(200);
    const ownPost = await call(cluster.url, 'POST', `/rest/bundles/${run}/netcurl/8080/owner`, { token: rootToken, json: { owner: 'post' } });
    expect(ownPost.status).toBe(200);
    const stdout = await waitFor(async () => {
      const text = (await cluster.cl(['cat', `${run}/stdout`])).stdout;
      return text.includes('tcp owner-netcat') && text.includes('http POST /owner') ? text : undefined;
    }, 30_000, "the owner's requests to be logged");
    expect(stdout).not.toContain('intruder');
  });

  const bobEnv = (): Record<string, string> => ({ CODALAB_HOME: join(cluster.root, 'bob-home'), CODALAB_USERNAME: 'bob', CODALAB_PASSWORD: 'bob-password' });

  it('refuses the netcat of another user through cl with a one-line message', async () => {
    await cluster.clOk(['work', `${cluster.url}::`], { env: bobEnv() });
    const result = await cluster.cl(['netcat', run, '8000', 'intruder-cl'], { env: bobEnv() });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain('is private');
  });

  it("refuses creating bundles on root's worksheet through cl, and creates nothing", async () => {
    await cluster.clOk(['work', `${cluster.url}::`], { env: bobEnv() });
    const before = await cluster.clOk(['ls', '-u']);
    const upload = await cluster.cl(['upload', join(cluster.root, 'seen.py'), '-w', 'home-codalab'], { env: bobEnv() });
    const runThere = await cluster.cl(['run', 'echo planted', '-w', 'home-codalab'], { env: bobEnv() });
    const mimic = await cluster.cl(['mimic', run, '-w', 'home-codalab'], { env: bobEnv() });
    for (const result of [upload, runThere, mimic]) {
      expect(result.code, result.stderr).toBe(1);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain("Worksheet 'home-codalab' is private");
    }
    expect(await cluster.clOk(['ls', '-u'])).toBe(before);
  });
});
