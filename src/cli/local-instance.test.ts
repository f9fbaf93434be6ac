import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseCliConfig } from './config.js';
import { isProcessAlive } from './file-lock.js';
import { ensureLocalInstance, findLocalInstance, readLocalCredentials } from './local-instance.js';
import { waitUntil } from '../../test/support/wait-for.js';

// A stand-in for bin/cl-server that honours the same contract: listen on --port 0, then write
// address.json {url, pid} and root-password into --home. It counts its starts in a file.
const FAKE_SERVER = `
const http = require('node:http');
const fs = require('node:fs');
const path = require('node:path');
const home = process.argv[process.argv.indexOf('--home') + 1];
fs.appendFileSync(path.join(home, '..', 'starts'), 'x');
const server = http.createServer((req, res) => { res.statusCode = 401; res.end('{}'); });
server.listen(0, '127.0.0.1', () => {
  setTimeout(() => {
    fs.writeFileSync(path.join(home, 'root-password'), 'secret\\n', { mode: 0o600 });
    const url = 'http://127.0.0.1:' + server.address().port;
    fs.writeFileSync(path.join(home, 'address.json'), JSON.stringify({ url, pid: process.pid }));
  }, 300);
});
`;

const started: number[] = [];

afterAll(() => {
  for (const pid of started) if (isProcessAlive(pid)) process.kill(pid, 'SIGTERM');
});

function configFor(home: string, serverBin: string): ReturnType<typeof parseCliConfig> {
  return parseCliConfig({ env: { CODALAB_HOME: home }, cwd: home, serverBin, nodeBin: process.execPath });
}

describe('the local instance', () => {
  it('starts one server for concurrent callers and reuses it afterwards', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cl-local-'));
    const serverBin = join(root, 'fake-server.cjs');
    writeFileSync(serverBin, FAKE_SERVER);
    const config = configFor(join(root, 'home'), serverBin);
    expect(await findLocalInstance(config.home)).toBeUndefined();

    const notes: string[] = [];
    const [a, b, c] = await Promise.all([1, 2, 3].map(() => ensureLocalInstance(config, (n) => notes.push(n))));
    if (!a || !b || !c) throw new Error('missing result');
    started.push(a.pid);
    expect(new Set([a.url, b.url, c.url]).size).toBe(1);
    expect(readFileSync(join(config.home, 'local', 'starts'), 'utf8')).toBe('x');
    expect(notes).toHaveLength(1);
    expect(await readLocalCredentials(a)).toEqual({ username: 'codalab', password: 'secret' });

    const again = await ensureLocalInstance(config, (n) => notes.push(n));
    expect(again.pid).toBe(a.pid);
    expect(notes).toHaveLength(1);
  });

  it('starts a new server when the recorded one is gone', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cl-local-'));
    const serverBin = join(root, 'fake-server.cjs');
    writeFileSync(serverBin, FAKE_SERVER);
    const config = configFor(join(root, 'home'), serverBin);
    const first = await ensureLocalInstance(config, () => undefined);
    process.kill(first.pid, 'SIGKILL');
    await waitUntil(() => !isProcessAlive(first.pid), 'the killed server to be gone');
    const second = await ensureLocalInstance(config, () => undefined);
    started.push(second.pid);
    expect(second.pid).not.toBe(first.pid);
  });

  it('reports a server that dies before it is ready, naming the log', async () => {
    const root = mkdtempSync(join(tmpdir(), 'cl-local-'));
    const serverBin = join(root, 'crash.cjs');
    writeFileSync(serverBin, 'console.error("boom"); process.exit(3);');
    const config = configFor(join(root, 'home'), serverBin);
    await expect(ensureLocalInstance(config, () => undefined)).rejects.toThrow(/exited \(status 3\).*server\.log/);
    expect(readFileSync(join(config.home, 'local', 'server.log'), 'utf8')).toContain('boom');
  });
});
