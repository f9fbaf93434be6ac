// The server's home as another user of the host sees it: the database, its -wal and -shm, the
// bundle store and a stored bundle are out of reach (checked with real reads as uid 65534 when
// the tests run as root), modes are set on creation and fixed on restart, and a too-short root
// password is refused by bin/cl-server at start.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { routes, type Bundle } from '../../src/protocol/index.js';
import { startTestServer, type TestServer } from '../../src/server/test-server.js';
import { REPO_ROOT } from '../e2e/harness.js';
import { call } from './security-helpers.js';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const parents: string[] = [];

/** A home inside a world-readable directory, so only the server's own modes protect it. */
function openParent(): string {
  const parent = mkdtempSync(join(tmpdir(), 'cl-home-sec-'));
  chmodSync(parent, 0o755);
  parents.push(parent);
  return parent;
}

function modeOf(path: string): number {
  return statSync(path).mode & 0o777;
}

/** Runs `command args` as nobody; returns its exit status and stderr. */
function asNobody(command: string, args: string[]): { status: number | null; stderr: string } {
  const result = spawnSync(command, args, { uid: NOBODY, gid: NOBODY, encoding: 'utf8' });
  return { status: result.status, stderr: result.stderr };
}

async function startWithData(home: string): Promise<{ ts: TestServer; bundle: Bundle }> {
  const ts = await startTestServer({ home, databaseUrl: join(home, 'codalab.sqlite') });
  const url = ts.server.url;
  const token = ts.client.token ?? '';
  const sheet = (await call(url, 'GET', routes.homeWorksheet(), { token })).body as { uuid: string };
  const bundle = (await call(url, 'POST', routes.createBundle(sheet.uuid), { token, json: { bundle_type: 'dataset', metadata: { name: 'secret' } } })).body as Bundle;
  const put = await call(url, 'PUT', `/rest/bundles/${bundle.uuid}/contents?filename=secret.txt`, { token, bytes: Buffer.from('secret data') });
  expect(put.status).toBe(200);
  return { ts, bundle };
}

afterAll(() => {
  for (const parent of parents) rmSync(parent, { recursive: true, force: true });
});

describe('the server home', () => {
  it('keeps the database, its -wal and -shm, the store and its bundles to the server user', async () => {
    const home = join(openParent(), 'home');
    const { ts, bundle } = await startWithData(home);
    try {
      const db = join(home, 'codalab.sqlite');
      const store = join(home, 'store');
      const file = join(store, 'bundles', bundle.uuid);
      expect(modeOf(home)).toBe(0o700);
      expect(modeOf(store)).toBe(0o700);
      for (const dir of ['bundles', 'staging']) expect(modeOf(join(store, dir))).toBe(0o700);
      for (const suffix of ['', '-wal', '-shm']) expect(modeOf(`${db}${suffix}`), `${db}${suffix}`).toBe(0o600);
      expect(modeOf(join(home, 'root-password'))).toBe(0o600);
      if (!isRoot) return;
      for (const path of [db, `${db}-wal`, `${db}-shm`, file, join(home, 'root-password')]) {
        const cat = asNobody('cat', [path]);
        expect(cat.status, path).not.toBe(0);
        expect(cat.stderr, path).toContain('Permission denied');
      }
      for (const dir of [home, store, join(store, 'bundles')]) {
        const ls = asNobody('ls', [dir]);
        expect(ls.status, dir).not.toBe(0);
        expect(ls.stderr, dir).toContain('Permission denied');
      }
    } finally {
      await ts.stop();
    }
  });

  it('fixes the modes of an existing home on start', async () => {
    const home = join(openParent(), 'home');
    const first = await startWithData(home);
    await first.ts.stop();
    const db = join(home, 'codalab.sqlite');
    chmodSync(home, 0o755);
    chmodSync(join(home, 'store'), 0o755);
    chmodSync(join(home, 'store', 'bundles'), 0o755);
    for (const name of readdirSync(home).filter((n) => n.startsWith('codalab.sqlite'))) chmodSync(join(home, name), 0o644);
    const again = await startTestServer({ home, databaseUrl: db });
    try {
      expect(modeOf(home)).toBe(0o700);
      expect(modeOf(join(home, 'store'))).toBe(0o700);
      expect(modeOf(join(home, 'store', 'bundles'))).toBe(0o700);
      for (const name of readdirSync(home).filter((n) => n.startsWith('codalab.sqlite'))) expect(modeOf(join(home, name)), name).toBe(0o600);
      if (isRoot) expect(asNobody('cat', [db]).stderr).toContain('Permission denied');
    } finally {
      await again.stop();
    }
  });

  it('writes a generated root password to a file of mode 600', () => {
    const home = join(openParent(), 'home');
    return new Promise<void>((resolve, reject) => {
      const env = { ...process.env };
      delete env.CODALAB_ROOT_PASSWORD;
      const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'cl-server'), '--home', home, '--port', '0'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (!stderr.includes('listening on')) return;
        try {
          expect(stderr).toContain('created root user');
          expect(modeOf(join(home, 'root-password'))).toBe(0o600);
          expect(modeOf(home)).toBe(0o700);
          resolve();
        } catch (error) {
          reject(error as Error);
        } finally {
          child.kill('SIGTERM');
        }
      });
      child.on('exit', (code) => {
        if (!stderr.includes('listening on')) reject(new Error(`cl-server exited ${code}: ${stderr}`));
      });
    });
  });
});

describe('the root password', () => {
  it('refuses a 2-character CODALAB_ROOT_PASSWORD at start with one line and a non-zero exit', () => {
    const home = join(openParent(), 'home');
    const result = spawnSync(process.execPath, [join(REPO_ROOT, 'bin', 'cl-server'), '--home', home, '--port', '0'], {
      env: { ...process.env, CODALAB_ROOT_PASSWORD: 'ab' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('CODALAB_ROOT_PASSWORD');
    expect(lines[0]).toContain('at least 8 characters');
    // Nothing was created with the weak password.
    expect(() => statSync(join(home, 'root-password'))).toThrow();
  });

  it('is the same minimum as for other users', async () => {
    const ts = await startTestServer();
    try {
      const answer = await call(ts.server.url, 'POST', '/rest/users', { token: ts.client.token ?? '', json: { user_name: 'shorty', password: 'ab' } });
      expect(answer.status).toBe(400);
      expect((answer.body as { error: { message: string } }).error.message).toContain('at least 8 characters');
    } finally {
      await ts.stop();
    }
  });
});
