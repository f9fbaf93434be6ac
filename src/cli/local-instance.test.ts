// The local instance with the real cl-server (bin/cl-server, built by the test set-up): one server
// for concurrent callers, reused afterwards; a new one when the recorded one is gone; and a clear
// error naming the log when the server dies before it is ready.
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { routes } from '../protocol/index.js';
import { parseCliConfig } from './config.js';
import { isProcessAlive } from './file-lock.js';
import { ensureLocalInstance, findLocalInstance, readLocalCredentials, type LocalInstance } from './local-instance.js';
import { waitUntil } from '../../test/support/wait-for.js';

const SERVER_BIN = fileURLToPath(new URL('../../bin/cl-server', import.meta.url));
const started: number[] = [];
const roots: string[] = [];

afterAll(async () => {
  for (const pid of started) if (isProcessAlive(pid)) process.kill(pid, 'SIGTERM');
  for (const pid of started) await waitUntil(() => !isProcessAlive(pid), `local server ${pid} to stop`);
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

function newHome(): string {
  const root = mkdtempSync(join(tmpdir(), 'cl-local-'));
  roots.push(root);
  return join(root, 'home');
}

function configFor(home: string): ReturnType<typeof parseCliConfig> {
  return parseCliConfig({ env: { CODALAB_HOME: home }, cwd: home, serverBin: SERVER_BIN, nodeBin: process.execPath });
}

/** Whether the root password the instance wrote lets one log in to it. */
async function canLogIn(instance: LocalInstance): Promise<boolean> {
  const { username, password } = await readLocalCredentials(instance);
  const answer = await fetch(`${instance.url}${routes.token()}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ grant_type: 'password', username, password }),
  });
  await answer.body?.cancel();
  return answer.ok;
}

describe('the local instance', () => {
  it('starts one server for concurrent callers and reuses it afterwards', async () => {
    const config = configFor(newHome());
    expect(await findLocalInstance(config.home)).toBeUndefined();

    const notes: string[] = [];
    const results = await Promise.allSettled([1, 2, 3].map(() => ensureLocalInstance(config, (n) => notes.push(n))));
    for (const r of results) if (r.status === 'fulfilled') started.push(r.value.pid);
    const [a, b, c] = results.map((r) => (r.status === 'fulfilled' ? r.value : undefined));
    if (!a || !b || !c) throw new Error(`missing result: ${JSON.stringify(results.map((r) => r.status === 'rejected' ? String(r.reason) : 'ok'))}`);
    expect(new Set([a.url, b.url, c.url]).size).toBe(1);
    expect(new Set([a.pid, b.pid, c.pid]).size).toBe(1);
    expect(notes).toHaveLength(1);
    // One server started: its log says it listened once.
    expect(readFileSync(join(config.home, 'local', 'server.log'), 'utf8').match(/listening on /g)).toHaveLength(1);
    expect((await readLocalCredentials(a)).username).toBe('codalab');
    expect(await canLogIn(a)).toBe(true);

    const again = await ensureLocalInstance(config, (n) => notes.push(n));
    expect(again.pid).toBe(a.pid);
    expect(notes).toHaveLength(1);
  });

  it('starts a new server when the recorded one is gone', async () => {
    const config = configFor(newHome());
    const first = await ensureLocalInstance(config, () => undefined);
    started.push(first.pid);
    process.kill(first.pid, 'SIGKILL');
    await waitUntil(() => !isProcessAlive(first.pid), 'the killed server to be gone');
    const second = await ensureLocalInstance(config, () => undefined);
    started.push(second.pid);
    expect(second.pid).not.toBe(first.pid);
    expect(await canLogIn(second)).toBe(true);
  });

  it('reports a server that dies before it is ready, naming the log', async () => {
    const config = configFor(newHome());
    // A directory where the server's database file belongs: the real server cannot open it and exits.
    mkdirSync(join(config.home, 'local', 'server', 'codalab.sqlite'), { recursive: true });
    await expect(ensureLocalInstance(config, () => undefined)).rejects.toThrow(/exited \(status 1\).*server\.log/);
    expect(readFileSync(join(config.home, 'local', 'server.log'), 'utf8')).toMatch(/^cl-server: .+/m);
  });
});
