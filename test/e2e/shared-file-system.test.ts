// End-to-end: a worker started with --shared-file-system sees the server's bundle store, so it
// mounts each dependency read-only straight from the store: nothing is downloaded into its cache.
// Attacked as a run would: it cannot write, delete, rename or chmod anything of its parent, and a
// dependency path that is (or passes through) a symbolic link is refused rather than followed on
// the host, where Docker would resolve it.
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, DEFAULT_IMAGE } from './harness.js';

const HOST_SECRET = 'host-only-bytes-5a0c';
let cluster: Cluster;
let hostFile = '';
let data = '';
const WORKER_ID = 'e2e-shared-fs';

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE]);
  cluster.startWorker({ id: WORKER_ID, extraArgs: ['--gpuset', 'NONE', '--shared-file-system'] });
  expect(await cluster.cl(['work', `${cluster.url}::`]), cluster.describeLogs()).toMatchObject({ code: 0 });
  hostFile = join(cluster.root, 'host-secret.txt');
  writeFileSync(hostFile, HOST_SECRET);
  const dir = join(cluster.root, 'data');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'f.txt'), 'parent bytes\n');
  writeFileSync(join(dir, 'sub', 'g.txt'), 'nested\n');
  symlinkSync(hostFile, join(dir, 'outside'));
  symlinkSync('/', join(dir, 'root'));
  data = await cluster.clOk(['upload', dir, '-n', 'data']);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

async function finishedRun(args: string[]): Promise<{ uuid: string; state: string }> {
  const uuid = await cluster.clOk(['run', ...args]);
  return { uuid, state: await cluster.waitForState(uuid, ['ready', 'failed'], 120_000) };
}

function storeSnapshot(): string {
  const root = join(cluster.serverHome, 'store', 'bundles', data);
  const walk = (dir: string): string[] =>
    readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const full = join(dir, e.name);
      const mode = statSync(full, { throwIfNoEntry: false })?.mode ?? 0;
      const line = `${full.slice(root.length)} ${e.isSymbolicLink() ? 'link' : mode.toString(8)}`;
      return e.isDirectory() ? [line, ...walk(full)] : [`${line} ${e.isFile() ? readFileSync(full, 'utf8') : ''}`];
    });
  return walk(root).sort().join('\n');
}

describe('a worker sharing the server file system', () => {
  it('mounts dependencies from the bundle store, downloading nothing', async () => {
    const run = await finishedRun([`d:${data}`, `s:${data}/sub`, 'cat d/f.txt s/g.txt']);
    expect(run.state, cluster.describeLogs()).toBe('ready');
    expect(await cluster.clOk(['cat', `${run.uuid}/stdout`])).toBe('parent bytes\nnested');
    expect(readdirSync(join(cluster.workDirFor(WORKER_ID), 'dependencies'))).toEqual([]);
  }, 180_000);

  it('spreads a directory from the store, its links made as links rather than mounted from the host', async () => {
    const run = await finishedRun([`.:${data}`, 'cat f.txt sub/g.txt; readlink outside root; cat outside 2>&1 || echo unreadable; ls root/']);
    expect(run.state, cluster.describeLogs()).toBe('ready');
    const stdout = await cluster.clOk(['cat', `${run.uuid}/stdout`]);
    expect(stdout).toContain(`parent bytes\nnested\n${hostFile}\n/\n`);
    expect(stdout).toContain('unreadable');
    // `root` -> `/` resolves to the container's own root, not the host's: the host file is not there.
    expect(stdout).not.toContain(HOST_SECRET);
    expect(stdout).toContain(`\n${run.uuid}\n`);
  }, 180_000);

  it('gives a run no way to change its parent', async () => {
    const before = storeSnapshot();
    const attempts = [
      'echo changed > d/f.txt',
      'echo more >> d/f.txt',
      'rm -f d/f.txt',
      'touch d/new',
      'mkdir d/newdir',
      'mv d/sub d/moved',
      'chmod 777 d/f.txt',
      'ln d/f.txt hard',
      'ln -sf /etc/passwd d/f.txt',
      'truncate -s 0 d/sub/g.txt',
    ];
    const command = attempts.map((a) => `(${a}) 2>/dev/null && echo "WROTE: ${a}"`).join('; ') + '; true';
    const run = await finishedRun([`d:${data}`, command]);
    expect(run.state, cluster.describeLogs()).toBe('ready');
    expect(await cluster.clOk(['cat', `${run.uuid}/stdout`])).not.toContain('WROTE');
    expect(storeSnapshot()).toBe(before);
    expect(await cluster.clOk(['cat', `${data}/f.txt`])).toBe('parent bytes');
  }, 180_000);

  it('refuses a dependency that is or passes through a symbolic link, never mounting the host', async () => {
    for (const target of [`${data}/outside`, `${data}/root/etc`]) {
      const run = await finishedRun([`d:${target}`, 'cat d d/passwd 2>&1; ls d']);
      expect(run.state, cluster.describeLogs()).toBe('failed');
      const message = await cluster.clOk(['info', '-f', 'failure_message', run.uuid]);
      expect(message).toMatch(/symbolic link/);
      const stdout = await cluster.cl(['cat', `${run.uuid}/stdout`]);
      expect(stdout.stdout).not.toContain(HOST_SECRET);
      expect(stdout.stdout).not.toContain('root:');
    }
  }, 180_000);

  it('moves the results into the store (the same inode, no copy), made safe like an upload', async () => {
    const command = [
      'echo result > out.txt',
      'stat -c %i out.txt > inode',
      'mkfifo pipe',
      'echo x > setuid && chmod 4755 setuid',
      'ln -s /etc/passwd link',
      'mkdir -p nested/deeper && echo deep > nested/deeper/f',
    ].join(' && ');
    const run = await finishedRun([`d:${data}`, command]);
    expect(run.state, cluster.describeLogs()).toBe('ready');
    const stored = join(cluster.serverHome, 'store', 'bundles', run.uuid);
    const inode = readFileSync(join(stored, 'inode'), 'utf8').trim();
    expect(String(statSync(join(stored, 'out.txt')).ino)).toBe(inode);
    expect(await cluster.clOk(['cat', `${run.uuid}/nested/deeper/f`])).toBe('deep');
    expect(readdirSync(stored).sort()).toEqual(['inode', 'link', 'nested', 'out.txt', 'setuid', 'stderr', 'stdout']);
    expect(statSync(join(stored, 'setuid')).mode & 0o7777).toBe(0o755);
    expect(await cluster.clOk(['cat', `${run.uuid}/link`])).toBe('link -> /etc/passwd');
    // The dependency's mount point is not part of the results, and nothing is left behind.
    expect(readdirSync(join(cluster.serverHome, 'store', 'incoming'))).toEqual([]);
    expect(readdirSync(join(cluster.workDirFor(WORKER_ID), 'runs'))).toEqual([]);
  }, 180_000);

  it('removes mount points through held directories: a parent swapped for a link is not followed', async () => {
    const victim = join(cluster.root, 'victim');
    mkdirSync(victim, { recursive: true });
    writeFileSync(join(victim, 'b'), '');
    // The run moves the directory holding its mount point away and leaves a link to the victim
    // in its place: removing `a/b` by path would delete the victim's `b`.
    const run = await finishedRun([`a/b:${data}/f.txt`, `mv a a2 2>&1; ln -s ${victim} a; ls -la a2 a; true`]);
    expect(run.state, cluster.describeLogs()).toBe('ready');
    expect(readdirSync(victim)).toEqual(['b']);
  }, 180_000);
});
