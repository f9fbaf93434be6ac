// End-to-end: symbolic links in uploaded directories are kept as links, including ones that point
// outside the bundle or nowhere (virtualenvs and conda environments are full of them), and no
// part of the system follows one: cat refuses, download and make copy the link itself, and a run
// that depends on the bundle sees the link as it was made, resolved in its own container.
import { mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Cluster, DEFAULT_IMAGE } from './harness.js';

const HOST_SECRET = 'host-only-bytes-7d1f';
let cluster: Cluster;
let hostFile = '';
let bundle = '';

beforeAll(async () => {
  cluster = new Cluster();
  await cluster.startServer(['--default-cpu-image', DEFAULT_IMAGE]);
  cluster.startWorker({ id: 'e2e-links', extraArgs: ['--gpuset', 'NONE'] });
  expect(await cluster.cl(['work', `${cluster.url}::`]), cluster.describeLogs()).toMatchObject({ code: 0 });
  hostFile = join(cluster.root, 'host-secret.txt');
  writeFileSync(hostFile, HOST_SECRET);
  const dir = join(cluster.root, 'venv');
  mkdirSync(join(dir, 'bin'), { recursive: true });
  writeFileSync(join(dir, 'bin', 'tool'), 'tool\n');
  symlinkSync(hostFile, join(dir, 'outside'));
  symlinkSync('/no/such/place', join(dir, 'nowhere'));
  symlinkSync('../..', join(dir, 'bin', 'up'));
  symlinkSync('tool', join(dir, 'bin', 'python'));
  bundle = await cluster.clOk(['upload', dir, '-n', 'venv']);
}, 120_000);

afterAll(async () => {
  await cluster?.stop();
});

describe('links in an uploaded directory', () => {
  it('are stored as links, wherever they point', async () => {
    const listing = await cluster.clOk(['cat', bundle]);
    expect(listing).toContain(`outside -> ${hostFile}`);
    expect(listing).toContain('nowhere -> /no/such/place');
    expect(await cluster.clOk(['cat', `${bundle}/bin`])).toMatch(/up -> \.\.\/\.\./);
  });

  it('are never followed by cat: a link shows itself, a path through one is refused', async () => {
    expect(await cluster.clOk(['cat', `${bundle}/outside`])).toBe(`outside -> ${hostFile}`);
    expect(await cluster.clOk(['cat', `${bundle}/nowhere`])).toBe('nowhere -> /no/such/place');
    const through = await cluster.cl(['cat', `${bundle}/bin/up/host-secret.txt`]);
    expect(through.code).toBe(1);
    expect(through.stdout).not.toContain(HOST_SECRET);
    expect(through.stderr).toMatch(/symbolic link/);
    expect(through.stderr.trim().split('\n')).toHaveLength(1);
  });

  it('download as links', async () => {
    const out = join(cluster.root, 'downloaded');
    await cluster.clOk(['download', bundle, '-o', out]);
    expect(readlinkSync(join(out, 'outside'))).toBe(hostFile);
    expect(readlinkSync(join(out, 'nowhere'))).toBe('/no/such/place');
    expect(readlinkSync(join(out, 'bin', 'up'))).toBe('../..');
    expect(readFileSync(join(out, 'bin', 'tool'), 'utf8')).toBe('tool\n');
  });

  it('are copied as links by make', async () => {
    const made = await cluster.clOk(['make', `v:${bundle}`, '-n', 'made-venv']);
    expect(await cluster.waitForState(made, ['ready', 'failed'])).toBe('ready');
    expect(await cluster.clOk(['cat', `${made}/v`])).toContain(`outside -> ${hostFile}`);
    expect(await cluster.clOk(['cat', `${made}/v/outside`])).not.toContain(HOST_SECRET);
  });

  it('reach a run as links, resolved inside its own container', async () => {
    const run = await cluster.clOk([
      'run',
      `env:${bundle}`,
      'readlink env/outside env/nowhere env/bin/up; cat env/bin/python; cat env/outside 2>&1 || echo unreadable',
    ]);
    expect(await cluster.waitForState(run, ['ready', 'failed'], 120_000), cluster.describeLogs()).toBe('ready');
    const stdout = await cluster.clOk(['cat', `${run}/stdout`]);
    expect(stdout).toContain(`${hostFile}\n/no/such/place\n../..\ntool\n`);
    // The host file's path does not exist inside the container.
    expect(stdout).toContain('unreadable');
    expect(stdout).not.toContain(HOST_SECRET);
  }, 180_000);

  it('reach a run that spreads the bundle (.:) as links too, never mounted from the host', async () => {
    const run = await cluster.clOk(['run', `.:${bundle}`, 'readlink outside nowhere; cat outside 2>&1 || echo unreadable']);
    expect(await cluster.waitForState(run, ['ready', 'failed'], 120_000), cluster.describeLogs()).toBe('ready');
    const stdout = await cluster.clOk(['cat', `${run}/stdout`]);
    expect(stdout).toContain(`${hostFile}\n/no/such/place\n`);
    expect(stdout).toContain('unreadable');
    expect(stdout).not.toContain(HOST_SECRET);
  }, 180_000);
});
