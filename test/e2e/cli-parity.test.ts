// End-to-end: documented CodaLab command lines through bin/cl against a real server and worker:
// `cl work -u`, the dependency key `.`, freezing, `cl info --raw/--verbose`, the final state after
// `--tail`, a deleted current worksheet, and stopping and restarting the local instance.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, DEFAULT_IMAGE } from './harness.js';

const UUID = /^0x[0-9a-f]{32}$/;
let cluster: Cluster;

async function fails(args: string[], pattern: RegExp): Promise<string> {
  const result = await cluster.cl(args);
  expect(result.code, `${args.join(' ')}: ${result.stdout}`).toBe(1);
  expect(result.stderr.trim().split('\n')).toHaveLength(1);
  expect(result.stderr).toMatch(pattern);
  return result.stderr;
}

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE]);
  cluster.startWorker({ id: 'e2e-parity' });
  expect((await cluster.cl(['work', `${cluster.url}::`])).code, cluster.describeLogs()).toBe(0);
  await cluster.clOk(['new', 'parity']);
  await cluster.clOk(['work', 'parity']);
});

afterAll(async () => {
  await cluster?.stop();
});

describe('cl work -u', () => {
  it('prints only the current worksheet uuid', async () => {
    const uuid = await cluster.clOk(['work', '-u']);
    expect(uuid).toMatch(UUID);
    expect(await cluster.clOk(['work', '--uuid-only'])).toBe(uuid);
    expect(await cluster.clOk(['wls', 'parity', '-u'])).toBe(uuid);
    expect(await cluster.clOk(['work'])).toContain(uuid);
  });
});

describe('dependency key .', () => {
  it("puts the parent's entries directly in the run directory, and refuses keys that leave it", async () => {
    const dir = join(cluster.root, 'spread');
    mkdirSync(join(dir, 'sub'), { recursive: true });
    writeFileSync(join(dir, 'f1'), 'one\n');
    writeFileSync(join(dir, 'sub', 'f2'), 'two\n');
    await cluster.clOk(['upload', dir, '-n', 'spreadme']);
    const run = await cluster.clOk(['run', '.:spreadme', 'cat f1 sub/f2']);
    expect(await cluster.clOk(['info', '-f', 'dependencies', run])).toMatch(/^\.:0x[0-9a-f]{32}$/);
    const waited = await cluster.cl(['wait', run], { timeoutMs: 120_000 });
    expect(waited.code, `${waited.stderr}\n${cluster.describeLogs()}`).toBe(0);
    expect(await cluster.clOk(['cat', `${run}/stdout`])).toBe('one\ntwo');
    await fails(['run', '..:spreadme', 'ls'], /'\.\.' is not allowed/);
    await fails(['run', '/abs:spreadme', 'ls'], /absolute/);
    await fails(['run', './x/..:spreadme', 'ls'], /'\.\.' is not allowed/);
  }, 180_000);
});

describe('freeze', () => {
  it('refuses edits and rm of a frozen bundle until it is unfrozen, and freezes only final bundles', async () => {
    const uuid = await cluster.clOk(['upload', '-c', 'cold', '-n', 'icy']);
    expect(await cluster.clOk(['edit', 'icy', '--freeze'])).toBe(uuid);
    expect(await cluster.clOk(['info', '-f', 'frozen', uuid])).toMatch(/^\d+$/);
    expect(await cluster.clOk(['info', uuid])).toMatch(/^frozen\s+: \d{4}-\d\d-\d\d /m);
    await fails(['edit', 'icy', '-n', 'thawed'], /frozen.*cl edit .* --unfreeze/);
    await fails(['edit', 'icy', '-f', 'frozen', '1'], /Cannot edit frozen/);
    await fails(['rm', 'icy'], /frozen.*cl edit .* --unfreeze/);
    await fails(['edit', 'icy', '--freeze', '--unfreeze'], /either --freeze or --unfreeze/);
    expect(await cluster.clOk(['edit', 'icy', '--unfreeze'])).toBe(uuid);
    expect(await cluster.clOk(['info', '-f', 'frozen', uuid])).toBe('');
    await cluster.clOk(['edit', 'icy', '-n', 'thawed']);
    expect(await cluster.clOk(['rm', 'thawed'])).toBe(uuid);

    const waiting = await cluster.clOk(['run', '--request-queue', 'no-such-queue', 'true', '-n', 'queued']);
    await cluster.waitForState(waiting, ['staged']);
    await fails(['edit', waiting, '--freeze'], /Cannot freeze .* it is staged; only ready, failed or killed/);
    await cluster.clOk(['kill', waiting]);
  });
});

describe('cl info --raw and --verbose', () => {
  it('prints every standard key of the type, and previews contents', async () => {
    const file = await cluster.clOk(['upload', '-c', 'line1\nline2\n', '-n', 'rawfile']);
    const raw = await cluster.clOk(['info', '--raw', file]);
    for (const key of ['description', 'tags', 'license', 'source_url', 'link_url', 'link_format', 'failure_message', 'frozen']) {
      expect(raw).toMatch(new RegExp(`^${key}\\s+:\\s*$`, 'm'));
    }
    expect(raw).not.toMatch(/^request_memory/m);
    const plain = await cluster.clOk(['info', file]);
    expect(plain).not.toMatch(/^license/m);

    const verbose = await cluster.clOk(['info', '--verbose', file]);
    expect(verbose).toMatch(/^host_worksheets\s+: parity\(0x[0-9a-f]{32}\)$/m);
    expect(verbose).toMatch(/^permission\s+: all$/m);
    expect(verbose).toMatch(/^contents:\nline1\nline2$/m);

    const dir = join(cluster.root, 'verbose-dir');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'inside.txt'), 'x');
    const dirBundle = await cluster.clOk(['upload', dir, '-n', 'verbosedir']);
    expect(await cluster.clOk(['info', '-v', dirBundle])).toMatch(/^contents:\n {2}name\s+perm\s+size\n {2}-[- ]+\n {2}inside\.txt\s/m);

    const run = await cluster.clOk(['run', 'echo out; echo err >&2', '-n', 'verboserun']);
    await cluster.cl(['wait', run], { timeoutMs: 120_000 });
    const runRaw = await cluster.clOk(['info', '-r', run]);
    for (const key of ['request_queue', 'request_priority', 'exitcode', 'docker_image', 'remote', 'allow_failed_dependencies', 'store']) {
      expect(runRaw).toMatch(new RegExp(`^${key}\\s+:`, 'm'));
    }
    expect(runRaw).not.toMatch(/^license/m);
    const runVerbose = await cluster.clOk(['info', '-v', run]);
    expect(runVerbose).toMatch(/^stdout:\nout\nstderr:\nerr$/m);
    expect(runVerbose).toMatch(/^permission\s+: all$/m);
  }, 180_000);
});

describe('--tail ends with the final state', () => {
  it('prints the state after the output, on stderr, for run and wait', async () => {
    const ok = await cluster.cl(['run', 'echo hello', '--tail'], { timeoutMs: 120_000 });
    expect(ok.code, ok.stderr).toBe(0);
    const [uuid] = ok.stdout.split('\n');
    expect(ok.stdout).toBe(`${uuid}\nhello\n`);
    expect(ok.stderr).toMatch(new RegExp(`${uuid} ready\\n$`));

    const bad = await cluster.cl(['run', 'echo partial; exit 3', '--tail'], { timeoutMs: 120_000 });
    expect(bad.code).toBe(1);
    const [badUuid] = bad.stdout.split('\n');
    expect(bad.stdout).toBe(`${badUuid}\npartial\n`);
    expect(bad.stderr).toMatch(new RegExp(`${badUuid} failed: Exit code 3\\n$`));

    const waited = await cluster.cl(['wait', '--tail', badUuid ?? '']);
    expect(waited.code).toBe(1);
    expect(waited.stdout).toBe(`partial\n${badUuid}\n`);
    expect(waited.stderr).toMatch(new RegExp(`${badUuid} failed: Exit code 3\\n$`));
    const waitedOk = await cluster.cl(['wait', '-t', uuid ?? '']);
    expect(waitedOk.code).toBe(0);
    expect(waitedOk.stderr).toMatch(new RegExp(`${uuid} ready\\n$`));
  }, 180_000);
});

describe('a deleted current worksheet', () => {
  it('is reported with how to pick another, by every command that needs it', async () => {
    const gone = await cluster.clOk(['new', 'doomed']);
    await cluster.clOk(['work', 'doomed']);
    const removed = await cluster.cl(['wrm', 'doomed']);
    expect(removed.code, removed.stderr).toBe(0);
    expect(removed.stdout).toBe(`${gone}\n`);
    expect(removed.stderr).toMatch(/current worksheet.*cl work home/);
    for (const args of [['ls'], ['run', 'true'], ['upload', '-c', 'x'], ['info', '^1'], ['work']]) {
      const stderr = await fails(args, /worksheet doomed \(0x[0-9a-f]{32}\) no longer exists.*'cl work home'.*'cl work NAME'/);
      expect(stderr).not.toMatch(/No worksheet with uuid/);
    }
    const status = await cluster.cl(['status']);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^worksheet:\s+doomed \(0x[0-9a-f]{32}\), deleted: pick another with 'cl work home'/m);
    expect(status.stdout.endsWith('\n')).toBe(true);
    expect(await cluster.clOk(['work', 'home'])).toMatch(/Switched to worksheet: home-codalab/);
    expect(await cluster.clOk(['work', '-u'])).toBe(await cluster.clOk(['wls', 'home-codalab', '-u']));
    await cluster.clOk(['work', 'parity']);
  });
});

describe('cl local', () => {
  it('stops, reports and restarts the local instance', async () => {
    const local = new Cluster();
    const env = { CODALAB_USERNAME: undefined, CODALAB_PASSWORD: undefined, CODALAB_ROOT_PASSWORD: undefined };
    try {
      expect(await local.clOk(['local', 'status'], { env })).toBe('The local server is not running.');
      const started = await local.cl(['local', 'start'], { env, timeoutMs: 120_000 });
      expect(started.code, started.stderr).toBe(0);
      expect(started.stdout).toMatch(/^The local server is running: pid \d+ at http:\/\/127\.0\.0\.1:\d+/);
      const status = await local.cl(['status'], { env });
      expect(status.code, status.stderr).toBe(0);
      expect(status.stdout.endsWith('\n')).toBe(true);
      expect(status.stdout).toMatch(/^worksheet:\s+home-codalab/m);
      expect(await local.clOk(['local', 'status'], { env })).toMatch(/^The local server is running: pid \d+/);
      expect(await local.clOk(['local', 'stop'], { env, timeoutMs: 60_000 })).toMatch(/^Stopped the local server \(pid \d+\)\.$/);
      expect(await local.clOk(['local', 'status'], { env })).toBe('The local server is not running.');
      expect(await local.clOk(['local', 'stop'], { env })).toBe('The local server is not running.');
      const again = await local.cl(['local', 'start'], { env, timeoutMs: 120_000 });
      expect(again.code, again.stderr).toBe(0);
      expect(await local.clOk(['local', 'stop'], { env, timeoutMs: 60_000 })).toMatch(/^Stopped/);
    } finally {
      await local.cl(['local', 'stop'], { env, timeoutMs: 60_000 }).catch(() => undefined);
    }
  }, 300_000);
});
