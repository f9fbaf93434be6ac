// Attacks on the worker's host files by the owner of a run, with a real cl-server, a real
// cl-worker (as this test runs: root in CI) on Docker, and real HTTP. The run swaps a directory
// `d` of its own with a link `l` to a host directory, atomically and without pause
// (renameat2 RENAME_EXCHANGE), for the whole test, while reads, writes, listings and downloads
// name `d/...`. Whatever the timing, none of them may reach the host directory.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, DEFAULT_IMAGE, waitFor } from '../e2e/harness.js';

/** Rounds of each request while the swap runs: each round has about even odds of meeting the link. */
const ROUNDS = 60;
const HOST_SECRET = 'HOST-SECRET-0451';
const VICTIM_TEXT = 'host file that must stay as it is\n';

let cluster: Cluster;
let token = '';
let hostDir = '';

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE]);
  cluster.startWorker({ id: 'sec-files', extraArgs: ['--slots', '2', '--gpuset', 'NONE'] });
  expect(await cluster.cl(['work', `${cluster.url}::`]), cluster.describeLogs()).toMatchObject({ code: 0 });
  token = await cluster.token();
  hostDir = join(cluster.root, 'host-victim');
  resetHostDir();
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

function resetHostDir(): void {
  rmSync(hostDir, { recursive: true, force: true });
  mkdirSync(hostDir, { recursive: true });
  writeFileSync(join(hostDir, 'secret.txt'), `${HOST_SECRET}\n`);
  writeFileSync(join(hostDir, 'victim.txt'), VICTIM_TEXT);
}

function expectHostDirUntouched(): void {
  expect(readdirSync(hostDir).sort()).toEqual(['secret.txt', 'victim.txt']);
  expect(readFileSync(join(hostDir, 'victim.txt'), 'utf8')).toBe(VICTIM_TEXT);
  expect(readFileSync(join(hostDir, 'secret.txt'), 'utf8')).toBe(`${HOST_SECRET}\n`);
}

/**
 * A command that makes `d` (with a file of its own) and `l -> target`, says `ready`, then swaps
 * the two names as fast as it can for `seconds`.
 */
function swapLoop(target: string, seconds: number): string {
  const script = [
    'import ctypes, os, time',
    'libc = ctypes.CDLL(None, use_errno=True)',
    "os.makedirs('d', exist_ok=True)",
    "open('d/inside.txt', 'w').write('inside\\n')",
    `os.symlink(${JSON.stringify(target)}, 'l')`,
    "os.mkfifo('fifo')",
    "open('ready', 'w').close()",
    `end = time.time() + ${seconds}`,
    'n = 0',
    'while time.time() < end:',
    "    if libc.renameat2(-100, b'd', -100, b'l', 2) != 0: raise OSError(ctypes.get_errno(), 'renameat2')",
    '    n += 1',
    "print('swaps', n)",
  ].join('\n');
  return `python3 -c '${script.replace(/'/g, "'\\''")}'`;
}

function rest(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${cluster.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
}

async function waitForReady(uuid: string): Promise<void> {
  await waitFor(async () => {
    const info = await rest(`/rest/bundles/${uuid}/contents/info/ready`);
    return info.status === 200 ? true : undefined;
  }, 120_000, `${uuid}/ready`);
}

describe('a run swapping a directory with a link to a host directory', () => {
  let run = '';

  beforeAll(async () => {
    run = await cluster.clOk(['run', swapLoop(hostDir, 600), '-n', 'swapper']);
    await cluster.waitForState(run, ['running']);
    await waitForReady(run);
  }, 180_000);

  afterEach(async () => {
    // Every attack above ran against a live run whose swap loop was still going.
    const [state, failure] = (await cluster.clOk(['info', '-f', 'state,failure_message', run])).split('\t');
    expect({ state, failure }).toEqual({ state: 'running', failure: '' });
  });

  afterAll(async () => {
    if (run) await cluster.cl(['kill', run]);
  });

  it('cannot make cl write truncate or create host files', async () => {
    for (let i = 0; i < ROUNDS; i += 1) {
      for (const name of ['victim.txt', 'new.txt']) {
        const answer = await rest('/rest/bundle-actions', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ type: 'write', uuid: run, subpath: `d/${name}`, string: 'x' }),
        });
        await answer.arrayBuffer();
      }
    }
    // And through bin/cl, as a user would.
    for (let i = 0; i < 5; i += 1) await cluster.cl(['write', `${run}/d/victim.txt`, 'x']);
    expectHostDirUntouched();
    expect(existsSync(join(hostDir, 'new.txt'))).toBe(false);
  }, 240_000);

  it('cannot read a host directory as a tar, a host file, its head or its tail', async () => {
    for (let i = 0; i < ROUNDS; i += 1) {
      for (const path of ['d', 'd/secret.txt', 'd/secret.txt?head=5', 'd/secret.txt?tail=5']) {
        const answer = await rest(`/rest/bundles/${run}/contents/blob/${path}`);
        const body = Buffer.from(await answer.arrayBuffer()).toString('latin1');
        expect(body, `blob/${path}`).not.toContain(HOST_SECRET);
        // A tar of `d` names its entries; only the host directory holds a secret.txt.
        if (path === 'd') expect(body, 'blob/d').not.toContain('secret.txt');
      }
    }
    expectHostDirUntouched();
  }, 240_000);

  it('cannot list a host directory', async () => {
    let sawOwnDirectory = false;
    for (let i = 0; i < ROUNDS * 2; i += 1) {
      const answer = await rest(`/rest/bundles/${run}/contents/info/d`);
      const text = await answer.text();
      // secret.txt exists only in the host directory (the write test may have put a victim.txt in `d`).
      expect(text).not.toContain('secret.txt');
      if (text.includes('inside.txt')) sawOwnDirectory = true;
    }
    // The run's own directory still lists whenever it is in place.
    expect(sawOwnDirectory).toBe(true);
  }, 240_000);

  it('cannot download a host directory with cl download or cl cat a host file', async () => {
    for (let i = 0; i < 8; i += 1) {
      const out = join(cluster.root, `download-${i}`);
      await cluster.cl(['download', `${run}/d`, '-o', out]);
      if (existsSync(out)) {
        const names = readdirSync(out);
        expect(names).not.toContain('secret.txt');
      }
      const cat = await cluster.cl(['cat', `${run}/d/secret.txt`]);
      expect(cat.stdout).not.toContain(HOST_SECRET);
    }
    expectHostDirUntouched();
  }, 240_000);
});

describe('a run that leaves a FIFO in its directory', () => {
  it('gets reads and writes of it refused at once, and the worker keeps answering', async () => {
    const run = await cluster.clOk(['run', `${swapLoop(hostDir, 600)}`, '-n', 'fifo']);
    await waitForReady(run);
    // More requests at once than libuv has threads: a blocking open would freeze the worker's files.
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        i % 2 === 0
          ? rest(`/rest/bundles/${run}/contents/blob/fifo`)
          : rest('/rest/bundle-actions', {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ type: 'write', uuid: run, subpath: 'fifo', string: 'x' }),
            }),
      ),
    );
    for (const answer of answers) {
      expect(answer.status).toBe(400);
      expect(await answer.text()).toMatch(/not a regular file/);
    }
    expect((await rest(`/rest/bundles/${run}/contents/info/ready`)).status).toBe(200);
    expect(await cluster.clOk(['info', '-f', 'state', run])).toBe('running');
    await cluster.cl(['kill', run]);
  }, 240_000);
});

describe('a run swapping a directory with a link to a huge host directory', () => {
  it('is not charged for the host files in its disk use, and its results keep the link as a link', async () => {
    const bigDir = join(cluster.root, 'host-big');
    mkdirSync(bigDir, { recursive: true });
    writeFileSync(join(bigDir, 'huge.bin'), '');
    truncateSync(join(bigDir, 'huge.bin'), 64 * 1024 ** 3); // sparse: 64 GiB by size, nothing on disk
    const run = await cluster.clOk(['run', `${swapLoop(bigDir, 12)} && echo done`, '--request-disk', '100m', '-n', 'swap-disk']);
    // The worker measures the run's disk use every second or so while it runs.
    const state = await cluster.waitForState(run, ['ready', 'failed', 'killed'], 180_000);
    const failure = await cluster.clOk(['info', '-f', 'failure_message', run]);
    expect({ state, failure }).toEqual({ state: 'ready', failure: '' });
    expect(await cluster.clOk(['cat', `${run}/stdout`])).toMatch(/swaps \d+\ndone/);
    // One of `d` and `l` is the link to the host directory; neither leads there once stored.
    for (const name of ['d', 'l']) {
      const cat = await cluster.cl(['cat', `${run}/${name}/huge.bin`], { timeoutMs: 30_000 });
      expect(cat.code).toBe(1);
      expect(cat.stdoutBytes.length).toBe(0);
    }
  }, 240_000);
});
