// End-to-end: every bad input gives exactly one line on stderr starting with `cl: `, nothing on
// stdout, exit status 1, and creates nothing.
import { createServer } from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster } from './harness.js';
import { expectOneLineError } from './cl-assertions.js';

let cluster: Cluster;

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.startServer();
  await cluster.clOk(['work', `${cluster.url}::`]);
  writeFileSync(join(cluster.root, 'data.txt'), 'x\n');
});

afterAll(async () => {
  await cluster?.stop();
});

async function bundleCount(): Promise<number> {
  const ls = await cluster.clOk(['ls']);
  return ls.split('\n').filter((line) => /^\^\d+/.test(line)).length;
}

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('bad input', () => {
  it('rejects each mistake in one line and creates nothing', async () => {
    const before = await bundleCount();
    expectOneLineError(await cluster.cl(['info', 'no-such-bundle']), /no-such-bundle/);
    expectOneLineError(await cluster.cl(['cat', '0x0123456789abcdef0123456789abcdef/stdout']), /0x0123456789abcdef0123456789abcdef/);
    expectOneLineError(await cluster.cl(['run', '--request-memory', 'lots', 'date']), /Invalid size 'lots'/);
    expectOneLineError(await cluster.cl(['run', '--request-time', '3 weeks', 'date']), /Invalid duration/);
    expectOneLineError(await cluster.cl(['upload', 'data.txt', 'missing.txt']), /Cannot upload 'missing.txt'/);
    expectOneLineError(await cluster.cl(['run', 'a:data', 'a:other', 'cat a']), /Duplicate dependency key 'a'/);
    expectOneLineError(await cluster.cl(['upload', 'data.txt', '-n', '9 lives']), /Invalid bundle name '9 lives'/);
    expectOneLineError(await cluster.cl(['run', '-n', 'bad/name', 'date']), /Invalid bundle name/);
    expectOneLineError(await cluster.cl(['run', 'in:no-such-bundle', 'cat in']), /no-such-bundle/);
    expectOneLineError(await cluster.cl(['nonsense']), /unknown command 'nonsense'/);
    expectOneLineError(await cluster.cl(['run']), /Missing command/);
    expect(await bundleCount()).toBe(before);
  });

  it('names the user when the password is wrong', async () => {
    const home = mkdtempSync(join(tmpdir(), 'cl-e2e-home-'));
    const result = await cluster.cl(['work', `${cluster.url}::`], { env: { CODALAB_HOME: home, CODALAB_PASSWORD: 'wrong' } });
    expectOneLineError(result, new RegExp(`Cannot log in to ${cluster.url} as 'codalab'`));
  });

  it('explains how to log in when no credentials are available', async () => {
    const home = mkdtempSync(join(tmpdir(), 'cl-e2e-home-'));
    const result = await cluster.cl(['work', `${cluster.url}::`], {
      env: { CODALAB_HOME: home, CODALAB_USERNAME: undefined, CODALAB_PASSWORD: undefined },
    });
    expectOneLineError(result, /CODALAB_USERNAME and CODALAB_PASSWORD/);
  });

  it('names the address of a server that cannot be reached', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;
    const home = mkdtempSync(join(tmpdir(), 'cl-e2e-home-'));
    expectOneLineError(await cluster.cl(['work', `${url}::`], { env: { CODALAB_HOME: home } }), new RegExp(url));
  });

  it('logs in again when the cached token is rejected', async () => {
    const home = mkdtempSync(join(tmpdir(), 'cl-e2e-home-'));
    await cluster.clOk(['work', `${cluster.url}::`], { env: { CODALAB_HOME: home } });
    const statePath = join(home, 'state.json');
    const state = JSON.parse(readFileSync(statePath, 'utf8')) as { instances: Record<string, { auth?: { token: string } }> };
    const entry = state.instances[cluster.url];
    if (!entry?.auth) throw new Error('no token cached');
    entry.auth.token = 'forged-token';
    writeFileSync(statePath, JSON.stringify(state));
    expect(await cluster.clOk(['ls'], { env: { CODALAB_HOME: home } })).toMatch(/^### Worksheet/);
  });
});
