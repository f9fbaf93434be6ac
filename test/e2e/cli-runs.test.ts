// End-to-end: `cl` against a real server and worker, the flows of the CLI issue: select a server,
// run, read results, upload a directory and use it as a dependency, failures, kills, --tail.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, DEFAULT_IMAGE } from './harness.js';

const UUID = /^0x[0-9a-f]{32}$/;
let cluster: Cluster;

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE]);
  cluster.startWorker({ id: 'e2e-runs' });
  const work = await cluster.cl(['work', `${cluster.url}::`]);
  expect(work, cluster.describeLogs()).toMatchObject({ code: 0 });
  expect(work.stdout).toContain('home-codalab');
});

afterAll(async () => {
  await cluster?.stop();
});

describe('cl against a server with one worker', () => {
  it('runs date and prints its stdout with cl cat ^1/stdout', async () => {
    const uuid = await cluster.clOk(['run', 'date']);
    expect(uuid).toMatch(UUID);
    const waited = await cluster.cl(['wait', uuid], { timeoutMs: 120_000 });
    expect(waited, cluster.describeLogs()).toMatchObject({ code: 0, stdout: `${uuid}\n` });
    const out = await cluster.clOk(['cat', '^1/stdout']);
    expect(out).toMatch(/\d\d:\d\d:\d\d/);
    expect(await cluster.clOk(['info', '-f', 'uuid,state,exitcode,name', '^1'])).toBe(`${uuid}\tready\t0\trun-date`);
  }, 150_000);

  it('uploads a directory, runs with it as a dependency, and reads through the dependency key', async () => {
    const dir = join(cluster.root, 'corpus');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'lines.txt'), 'b\na\nc\n');
    writeFileSync(join(dir, 'sub', 'x.txt'), 'x');
    const data = await cluster.clOk(['upload', dir]);
    expect(data).toMatch(UUID);
    expect(await cluster.clOk(['info', '-f', 'name,state,bundle_type', data])).toBe('corpus\tready\tdataset');
    expect(await cluster.clOk(['cat', 'corpus/lines.txt'])).toBe('b\na\nc');
    const listing = await cluster.clOk(['cat', 'corpus']);
    expect(listing).toMatch(/^lines\.txt\s+\d+\s+6$/m);
    expect(listing).toMatch(/^sub\s+\d+\s+dir$/m);

    const run = await cluster.clOk(['run', 'in:corpus', 'sort in/lines.txt > sorted.txt', '-n', 'sorter']);
    expect((await cluster.cl(['wait', run], { timeoutMs: 120_000 })).code, cluster.describeLogs()).toBe(0);
    expect(await cluster.clOk(['cat', `${run}/sorted.txt`])).toBe('a\nb\nc');
    expect(await cluster.clOk(['cat', 'sorter/in/lines.txt'])).toBe('b\na\nc');
    const info = await cluster.clOk(['info', 'sorter']);
    expect(info).toMatch(new RegExp(`^  in: corpus\\(${data}\\)$`, 'm'));
  }, 150_000);

  it('uploads a file byte for byte and text with -c', async () => {
    const bytes = Buffer.from([0, 1, 2, 255, 10, 13, 10]);
    writeFileSync(join(cluster.root, 'blob.bin'), bytes);
    const file = await cluster.clOk(['upload', 'blob.bin', '-n', 'blob', '-d', 'binary data']);
    const cat = await cluster.cl(['cat', file]);
    expect(cat.code).toBe(0);
    expect(cat.stdoutBytes.equals(bytes)).toBe(true);
    expect(await cluster.clOk(['info', '-f', 'description,data_size', 'blob'])).toBe('binary data\t7');
    const text = await cluster.clOk(['upload', '-c', 'hello world']);
    expect(await cluster.clOk(['info', '-f', 'name', text])).toBe('contents');
    expect(await cluster.clOk(['cat', text])).toBe('hello world');
  });

  it('records a failing command as failed with its exit code', async () => {
    const uuid = await cluster.clOk(['run', 'echo oops >&2; exit 3']);
    const waited = await cluster.cl(['wait', uuid], { timeoutMs: 120_000 });
    expect(waited.code).toBe(1);
    expect(waited.stdout).toBe(`${uuid}\n`);
    expect(waited.stderr).toContain('failed');
    expect(await cluster.clOk(['info', '-f', 'state,exitcode', uuid])).toBe('failed\t3');
    expect(await cluster.clOk(['cat', `${uuid}/stderr`])).toBe('oops');
  }, 150_000);

  it('fails a run whose image does not exist, naming the image', async () => {
    const uuid = await cluster.clOk(['run', '--request-docker-image', 'no-such/image:1', 'true']);
    expect((await cluster.cl(['wait', uuid], { timeoutMs: 120_000 })).code).toBe(1);
    const [state, message] = (await cluster.clOk(['info', '-f', 'state,failure_message', uuid])).split('\t');
    expect(state).toBe('failed');
    expect(message).toContain('no-such/image:1');
  }, 150_000);

  it('keeps symbolic links a run leaves, even ones pointing outside, as links', async () => {
    const uuid = await cluster.clOk(['run', 'ln -s /etc/passwd abs; ln -s stdout rel; echo linked']);
    expect((await cluster.cl(['wait', uuid], { timeoutMs: 120_000 })).code, cluster.describeLogs()).toBe(0);
    const listing = await cluster.clOk(['cat', uuid]);
    expect(listing).toContain('abs -> /etc/passwd');
    expect(listing).toContain('rel -> stdout');
    expect(await cluster.clOk(['cat', `${uuid}/stdout`])).toBe('linked');
    // A link is shown as a link, never followed out of the bundle.
    const shown = await cluster.cl(['cat', `${uuid}/abs`]);
    expect(shown.stdout).toContain('/etc/passwd');
    expect(shown.stdout + shown.stderr).not.toContain('root:');
  }, 150_000);

  it('kills a running bundle', async () => {
    const uuid = await cluster.clOk(['run', 'sleep 60']);
    await cluster.waitForState(uuid, ['running']);
    expect(await cluster.clOk(['kill', uuid])).toBe(uuid);
    expect(await cluster.waitForState(uuid, ['killed', 'failed', 'ready'], 60_000)).toBe('killed');
    expect((await cluster.cl(['wait', uuid])).code).toBe(1);
  }, 150_000);

  it('follows a run with --tail and exits with its outcome', async () => {
    const ok = await cluster.cl(['run', 'echo hi; echo warn >&2', '--tail'], { timeoutMs: 120_000 });
    expect(ok.code, ok.stderr).toBe(0);
    const [uuid, ...rest] = ok.stdout.split('\n');
    expect(uuid).toMatch(UUID);
    expect(rest.join('\n')).toBe('hi\n');
    expect(ok.stderr).toContain('warn');
    const bad = await cluster.cl(['run', 'exit 2', '--tail'], { timeoutMs: 120_000 });
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/failed/);
  }, 150_000);

  it('lists the worksheet, the workers and the status', async () => {
    const ls = await cluster.clOk(['ls']);
    expect(ls).toMatch(/^### Worksheet: home-codalab/);
    expect(ls).toMatch(/^\^1\s+0x[0-9a-f]{8}\s+/m);
    expect(ls).toMatch(/! sleep 60/);
    const workers = await cluster.clOk(['workers']);
    expect(workers).toMatch(/^e2e-runs\s+\d+\/\d+/m);
    const status = await cluster.clOk(['status']);
    expect(status).toContain(cluster.url);
    expect(status).toMatch(/user:\s+codalab/);
    expect(status).toMatch(/worksheet:\s+home-codalab/);
  });

  it('selects worksheets, qualifies specs with WORKSHEET//, and reads heads, tails and previews', async () => {
    expect(await cluster.clOk(['work', 'home-codalab'])).toMatch(/^Switched to worksheet: home-codalab \(0x[0-9a-f]{32}\)/);
    expect(await cluster.clOk(['work'])).toMatch(/^Current worksheet: home-codalab/);
    const missing = await cluster.cl(['work', 'no-such-worksheet']);
    expect(missing.code).toBe(1);
    expect(await cluster.clOk(['work'])).toMatch(/^Current worksheet: home-codalab/);

    const run = await cluster.clOk(['run', 'seq 1 20', '-n', 'counter']);
    expect((await cluster.cl(['wait', run], { timeoutMs: 120_000 })).code).toBe(0);
    expect(await cluster.clOk(['cat', 'home-codalab//counter/stdout', '--head', '2'])).toBe('1\n2');
    expect(await cluster.clOk(['cat', 'counter/stdout', '--tail', '3'])).toBe('18\n19\n20');
    const verbose = await cluster.clOk(['info', '--verbose', 'counter']);
    expect(verbose).toMatch(/^stdout:\n1\n2\n/m);
    expect(await cluster.clOk(['info', '-f', 'command', 'home-codalab//counter'])).toBe('seq 1 20');
  }, 150_000);
});
