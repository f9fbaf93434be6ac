// End-to-end: a running bundle is read, followed, written and killed through the server, with a
// real cl-server, a real cl-worker on Docker, and bin/cl as a subprocess (issue 5).
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, DEFAULT_IMAGE, REPO_ROOT, waitFor } from './harness.js';

const UUID = /^0x[0-9a-f]{32}$/;
let cluster: Cluster;
let token = '';

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE]);
  cluster.startWorker({ id: 'e2e-live', extraArgs: ['--slots', '2', '--gpuset', 'NONE'] });
  const work = await cluster.cl(['work', `${cluster.url}::`]);
  expect(work, cluster.describeLogs()).toMatchObject({ code: 0 });
  token = await cluster.token();
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

function rest(path: string): Promise<Response> {
  return fetch(`${cluster.url}${path}`, { headers: { authorization: `Bearer ${token}` } });
}

async function info(uuid: string, fields: string): Promise<string[]> {
  return (await cluster.clOk(['info', '-f', fields, uuid])).split('\t');
}

/** Waits until `cl cat RUN/stdout` shows `text`. */
async function waitForOutput(uuid: string, text: string): Promise<void> {
  await waitFor(async () => {
    const cat = await cluster.cl(['cat', `${uuid}/stdout`]);
    return cat.code === 0 && cat.stdout.includes(text) ? true : undefined;
  }, 90_000, `${text} in ${uuid}/stdout`);
}

/** Tar entry names of a tar stream (ustar headers only; enough for these small test tars). */
function tarNames(bytes: Buffer): string[] {
  const names: string[] = [];
  for (let at = 0; at + 512 <= bytes.length; ) {
    const header = bytes.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const prefix = header.subarray(345, 500).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(header.subarray(124, 136).toString('utf8').replace(/\0.*$/s, '').trim() || '0', 8);
    names.push(prefix ? `${prefix}/${name}` : name);
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return names;
}

describe('a running bundle', () => {
  let corpus = '';
  let run = '';

  beforeAll(async () => {
    const dir = join(cluster.root, 'corpus');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'lines.txt'), 'b\na\nc\n');
    corpus = await cluster.clOk(['upload', dir]);
    run = await cluster.clOk([
      'run',
      'in:corpus',
      // Ticks until the test writes `stop` into it (at most 10 minutes), however slowly the tests
      // before that go: a fixed length would let it end early on a loaded machine.
      'mkdir -p sub && echo hello > sub/a.txt && ln -s /etc/passwd evil && seq 1 2000000 > big.txt && i=0; ' +
        'while [ ! -e stop ] && [ $i -lt 600 ]; do i=$((i+1)); echo line $i; echo err $i >&2; sleep 1; done; rm evil',
      '-n',
      'ticker',
    ]);
    await cluster.waitForState(run, ['running']);
    await waitForOutput(run, 'line 2');
  }, 150_000);

  it('serves cat, listings, heads and tails while it runs', async () => {
    expect(await cluster.clOk(['info', '-f', 'state', run])).toBe('running');
    // How fast such reads are is measured by bench/live-reads.mjs, not asserted here.
    expect(await cluster.clOk(['cat', `${run}/sub/a.txt`])).toBe('hello');
    expect(await cluster.clOk(['cat', `${run}/stdout`, '--head', '1'])).toBe('line 1');
    const listing = await cluster.clOk(['cat', run]);
    expect(listing).toMatch(/^stdout\s/m);
    expect(listing).toMatch(/^sub\s+\d+\s+dir$/m);
    expect(listing).not.toMatch(/^in\s/m); // the dependency mount point is hidden
    expect(await cluster.clOk(['cat', `${run}/in/lines.txt`])).toBe('b\na\nc');
    expect(await cluster.clOk(['cat', `${run}/evil`])).toBe('evil -> /etc/passwd');
    const verbose = await cluster.clOk(['info', '--verbose', run]);
    expect(verbose).toMatch(/^stdout:\nline 1\n/m);
    expect(corpus).toMatch(UUID);
  }, 60_000);

  it('streams a file many times the relay buffer through cl cat, whole', async () => {
    // cl cat asks for frames; a live read is answered plainly on that connection, and a relay
    // that outran the client once stalled there for good after about 1.4 MB.
    const expected = Array.from({ length: 2_000_000 }, (_, i) => String(i + 1)).join('\n');
    const cat = await cluster.cl(['cat', `${run}/big.txt`], { timeoutMs: 90_000 });
    expect(cat.code, cat.stderr).toBe(0);
    expect(cat.stdoutBytes.length).toBe(expected.length + 1);
    expect(cat.stdout === `${expected}\n`).toBe(true);
  }, 120_000);

  it('never leaves the bundle: .., symlinks, absolute paths', async () => {
    const evil = await rest(`/rest/bundles/${run}/contents/blob/evil`);
    expect(evil.status).toBe(400);
    const dots = await rest(`/rest/bundles/${run}/contents/blob/sub/%2E%2E/%2E%2E/etc/passwd`);
    expect([400, 404]).toContain(dots.status);
    const encoded = await rest(`/rest/bundles/${run}/contents/info/sub%2F..%2F..%2Fetc`);
    expect(encoded.status).toBe(400);
    const absolute = await rest(`/rest/bundles/${run}/contents/blob//etc/passwd`);
    expect(absolute.status).not.toBe(200);
    const through = await rest(`/rest/bundles/${run}/contents/blob/evil/x`);
    expect(through.status).toBe(404);
  });

  it('downloads a file and the whole directory (a tar without the dependency)', async () => {
    const file = await rest(`/rest/bundles/${run}/contents/blob/sub/a.txt`);
    expect(file.status).toBe(200);
    expect(file.headers.get('x-codalab-target-type')).toBe('file');
    expect(await file.text()).toBe('hello\n');
    const dir = await rest(`/rest/bundles/${run}/contents/blob/`);
    expect(dir.status).toBe(200);
    expect(dir.headers.get('x-codalab-target-type')).toBe('directory');
    const names = tarNames(Buffer.from(await dir.arrayBuffer())).map((n) => n.replace(/^\.\//, '').replace(/\/$/, ''));
    expect(names).toEqual(expect.arrayContaining(['stdout', 'stderr', 'sub', 'sub/a.txt', 'evil']));
    expect(names.some((n) => n === 'in' || n.startsWith('in/'))).toBe(false);
  });

  it('writes a file into it, and refuses writes outside it or onto a dependency', async () => {
    expect(await cluster.clOk(['write', `${run}/note.txt`, 'written live'])).toBe(run);
    expect(await cluster.clOk(['cat', `${run}/note.txt`])).toBe('written live');
    const onDep = await cluster.cl(['write', `${run}/in/lines.txt`, 'x']);
    expect(onDep.code).toBe(1);
    expect(onDep.stderr).toMatch(/dependency/);
    const out = await cluster.cl(['write', `${run}/sub/../../x`, 'x']);
    expect(out.code).toBe(1);
    const through = await cluster.cl(['write', `${run}/evil`, 'x']);
    expect(through.code).toBe(1);
    expect(await cluster.clOk(['info', '-f', 'state', run])).toBe('running');
    expect(await cluster.clOk(['info', '-f', 'actions', run])).toContain('write\tnote.txt\twritten live'.replace(/\t/g, ' '));
  }, 60_000);

  it('reports live statistics while running', async () => {
    // Statistics come with the worker's reports: wait for the first that carries memory.
    const [status, , timeRunning] = await waitFor(async () => {
      const fields = await info(run, 'run_status,memory,time_running');
      return Number(fields[1]) > 0 ? fields : undefined;
    }, 20_000, 'a report with the run\'s memory use');
    expect(status).toBe('Running');
    expect(Number(timeRunning)).toBeGreaterThan(0);
  }, 30_000);

  it('follows stdout and stderr live with cl wait --tail, then prints the final state', async () => {
    const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'cl'), 'wait', run, '--tail'], {
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', CODALAB_HOME: cluster.clHome, CODALAB_USERNAME: 'codalab', CODALAB_PASSWORD: cluster.rootPassword },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    // The state of the run when the first output arrived: still running, if output is followed live.
    // Then the run is told to stop, which `cl wait` must follow to the end.
    let stateAtFirstOutput: Promise<string> | undefined;
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      stateAtFirstOutput ??= cluster
        .clOk(['info', '-f', 'state', run])
        .then(async (state) => {
          await cluster.clOk(['write', `${run}/stop`, 'now']);
          return state;
        })
        .catch((error: unknown) => `error: ${String(error)}`);
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number>((resolve) => child.on('close', (c) => resolve(c ?? -1)));
    expect(code, stderr).toBe(0);
    const lines = stdout.split('\n').filter(Boolean);
    const ticks = lines.length - 1;
    expect(ticks).toBeGreaterThanOrEqual(2);
    expect(lines.slice(0, ticks)).toEqual(Array.from({ length: ticks }, (_, i) => `line ${i + 1}`));
    expect(lines[ticks]).toBe(run);
    expect(stderr).toContain(`err ${ticks}`);
    // Output arrived while the run was still printing (until told to stop), not all at the end.
    expect(await stateAtFirstOutput).toBe('running');
    const [timePreparing, timeRunning, timeUploading] = (await info(run, 'time_preparing,time_running,time_uploading_results')).map(Number);
    expect(timePreparing).toBeGreaterThan(0);
    expect(timeRunning).toBeGreaterThan(0);
    expect(timeUploading).toBeGreaterThan(0);
    expect(await cluster.clOk(['cat', `${run}/note.txt`])).toBe('written live');
  }, 120_000);
});

describe('cl run --tail', () => {
  it('prints output as it appears and ends with the failure', async () => {
    const result = await cluster.cl(['run', '--tail', 'for i in 1 2 3; do echo tick $i; sleep 1; done; echo oops >&2; exit 2'], { timeoutMs: 120_000 });
    expect(result.code).toBe(1);
    const [uuid, ...rest] = result.stdout.split('\n');
    expect(uuid).toMatch(UUID);
    expect(rest.join('\n')).toBe('tick 1\ntick 2\ntick 3\n');
    expect(result.stderr).toContain('oops');
    expect(result.stderr).toMatch(/failed: Exit code 2/);
  }, 150_000);
});

describe('statistics', () => {
  it('records memory_max close to what the program allocated', async () => {
    const uuid = await cluster.clOk([
      'run',
      'python3 -c "import time; b = bytearray(300 * 1024 * 1024); b[::4096] = b\\"x\\" * len(b[::4096]); time.sleep(4)"',
      '--request-memory',
      '1g',
    ]);
    expect((await cluster.cl(['wait', uuid], { timeoutMs: 120_000 })).code, cluster.describeLogs()).toBe(0);
    const [memoryMax] = (await info(uuid, 'memory_max')).map(Number);
    // Bounds that noise cannot cross: the program touched every page of 300 MiB, and the
    // container cannot hold more than its 1g limit (a larger figure would be a unit mistake).
    expect(memoryMax).toBeGreaterThan(300 * 1024 * 1024);
    expect(memoryMax).toBeLessThanOrEqual(1024 * 1024 * 1024);
  }, 150_000);
});

describe('cl kill', () => {
  let hangingRegistry: Server;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    // Accepts connections and never answers: an image pull from it hangs, so the run stays preparing.
    hangingRegistry = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => hangingRegistry.listen(0, '127.0.0.1', resolve));
  });

  afterAll(() => {
    for (const s of sockets) s.destroy();
    hangingRegistry.close();
  });

  /** Kills and waits for the final state; how fast a kill lands is bench/kill-latency.mjs's job. */
  async function killAndWait(uuid: string): Promise<void> {
    expect(await cluster.clOk(['kill', uuid])).toBe(uuid);
    expect(await cluster.waitForState(uuid, ['killed', 'failed', 'ready'])).toBe('killed');
    expect(await cluster.clOk(['info', '-f', 'actions', uuid])).toBe('kill');
  }

  it('kills a run while it prepares (a hanging image pull)', async () => {
    const address = hangingRegistry.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    const uuid = await cluster.clOk(['run', 'echo never', '--request-docker-image', `127.0.0.1:${port}/hang:1`]);
    await cluster.waitForState(uuid, ['preparing']);
    await killAndWait(uuid);
  }, 120_000);

  it('kills a running run and keeps its stdout', async () => {
    const uuid = await cluster.clOk(['run', 'echo started; sleep 300']);
    await cluster.waitForState(uuid, ['running']);
    await waitForOutput(uuid, 'started');
    await killAndWait(uuid);
    expect(await cluster.clOk(['cat', `${uuid}/stdout`])).toBe('started');
  }, 120_000);

  it('kills a run while its results upload, keeping stdout and stderr', async () => {
    const uuid = await cluster.clOk(['run', 'head -c 3000m /dev/zero > big; echo made; echo note >&2']);
    await cluster.waitForState(uuid, ['finalizing'], 120_000);
    await killAndWait(uuid);
    expect(await cluster.clOk(['cat', `${uuid}/stdout`])).toBe('made');
    expect(await cluster.clOk(['cat', `${uuid}/stderr`])).toBe('note');
  }, 180_000);

  it('kills a staged run at once and refuses to kill a final one', async () => {
    const uuid = await cluster.clOk(['run', 'true', '--request-queue', 'tag=nobody-has-this']);
    await killAndWait(uuid);
    const again = await cluster.cl(['kill', uuid]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already killed/);
  }, 60_000);
});
