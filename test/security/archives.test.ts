// Attacks through uploaded archives and run results, each performed for real against a server on
// loopback over HTTP: entries that climb out or are absolute, links that lead out or are written
// through, setuid bits, device nodes and FIFOs, and error messages that would show server paths.
// Each refusal is checked on both sides: the answer, and that nothing was stored or created.
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { TargetInfo } from '../../src/protocol/index.js';
import { ArchiveServer, buildTar, exists, readTar } from './archive-harness.js';
import { S_IFCHR, S_IFDIR, S_IFIFO, S_IFREG, buildZip, linkEntry } from './zip-writer.js';

let server: ArchiveServer;
/** A directory outside the server's home that the attacks aim at; it must never change. */
let outside: string;
let outsideBefore: Map<string, string>;
const MARKER = 'left alone\n';

beforeAll(async () => {
  server = await ArchiveServer.start();
  outside = await mkdtemp(join(tmpdir(), 'cl-outside-'));
  await mkdir(join(outside, 'somedir'));
  await writeFile(join(outside, 'marker'), MARKER);
  await writeFile(join(outside, 'somedir', 'marker'), MARKER);
  outsideBefore = await snapshot(outside);
});

afterAll(async () => {
  await server.stop();
  await rm(outside, { recursive: true, force: true });
});

beforeEach(async () => {
  // A test that failed may have written outside; the next one starts from the same state.
  for (const name of await readdir(outside)) if (name !== 'marker' && name !== 'somedir') await rm(join(outside, name), { recursive: true });
  for (const name of await readdir(join(outside, 'somedir'))) if (name !== 'marker') await rm(join(outside, 'somedir', name), { recursive: true });
});

/** Every path below `dir` with its contents (files) or kind, to compare before and after an attack. */
async function snapshot(dir: string, prefix = ''): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    const key = `${prefix}${entry.name}`;
    if (entry.isDirectory()) {
      found.set(key, 'directory');
      for (const [k, v] of await snapshot(path, `${key}/`)) found.set(k, v);
    } else {
      found.set(key, entry.isFile() ? await readFile(path, 'utf8') : 'other');
    }
  }
  return found;
}

async function expectOutsideUntouched(): Promise<void> {
  expect(await snapshot(outside)).toEqual(outsideBefore);
}

/** The upload was refused as a whole: an error naming the reason, the bundle failed, nothing on disk. */
async function expectRefused(result: { bundle: { uuid: string }; error: Error | null }, reason: RegExp): Promise<void> {
  expect(result.error?.message).toMatch(reason);
  expect((await server.getBundle(result.bundle.uuid)).state).toBe('failed');
  expect(await exists(server.storedPath(result.bundle.uuid))).toBe(false);
  await expectOutsideUntouched();
}

/** Deep enough to climb from any server home to `/`, then down into `outside`. */
function climbingName(leaf: string): string {
  return `${'../'.repeat(40)}${outside.slice(1)}/${leaf}`;
}

/** `b -> .`, `a1 -> b/..`, ..., `a9 -> a8/..`: each link looks inside, yet a9 resolves to `/`. */
function linkChain(): ReturnType<typeof linkEntry>[] {
  const links = [linkEntry('b', '.'), linkEntry('a1', 'b/..')];
  for (let i = 2; i <= 9; i += 1) links.push(linkEntry(`a${i}`, `a${i - 1}/..`));
  return links;
}

function modeOf(path: string): Promise<number> {
  return stat(path).then((s) => s.mode & 0o7777);
}

describe('zip uploads', () => {
  it('refuses an entry that climbs out with ../ and stores nothing', async () => {
    const zip = buildZip([{ name: 'ok.txt', data: 'ok' }, { name: climbingName('evil'), data: 'pwned' }]);
    await expectRefused(await server.uploadArchive('climb.zip', zip), /Archive 'climb.zip' rejected, nothing stored: entry '.*evil' points outside the bundle/);
  });

  it('refuses a short ../ entry', async () => {
    const zip = buildZip([{ name: '../evil', data: 'pwned' }]);
    await expectRefused(await server.uploadArchive('short.zip', zip), /entry '\.\.\/evil' points outside the bundle/);
  });

  it('refuses an absolute entry and stores nothing', async () => {
    const zip = buildZip([{ name: 'ok.txt', data: 'ok' }, { name: `${outside}/abs-evil`, data: 'pwned' }]);
    await expectRefused(await server.uploadArchive('absolute.zip', zip), /entry '\/.*abs-evil' points outside the bundle/);
  });

  it('refuses an entry that climbs with backslashes as separators', async () => {
    const zip = buildZip([{ name: `${'..\\'.repeat(40)}evil`, data: 'pwned' }]);
    await expectRefused(await server.uploadArchive('backslash.zip', zip), /points outside the bundle/);
  });

  it('refuses an entry name holding a NUL byte', async () => {
    const zip = buildZip([{ name: 'evil\0.txt', data: 'pwned' }]);
    await expectRefused(await server.uploadArchive('nul.zip', zip), /rejected, nothing stored: entry 'evil\\0\.txt' has a NUL byte in its name/);
  });

  it('keeps a link chain to /etc/passwd as links, and no read through it returns host bytes', async () => {
    const zip = buildZip([...linkChain(), linkEntry('pw', 'a9/etc/passwd'), { name: 'readme', data: 'hi' }]);
    const { bundle, error } = await server.uploadArchive('chain.zip', zip);
    expect(error).toBeNull();
    expect(bundle.state).toBe('ready');
    const info = TargetInfo.parse(JSON.parse((await server.read('info', bundle.uuid, 'pw')).body.toString()));
    expect(info).toMatchObject({ type: 'link', link: 'a9/etc/passwd' });

    const host = await readFile('/etc/passwd');
    for (const path of ['pw', 'a9/etc/passwd', 'a9', 'a1']) {
      for (const query of ['', '?head=5', '?tail=5']) {
        const blob = await server.read('blob', bundle.uuid, path, query);
        expect(blob.ok, `blob of ${path}${query}`).toBe(false);
        expect(blob.message).toMatch(/symbolic link/);
      }
    }
    const through = await server.read('info', bundle.uuid, 'a9/etc/passwd');
    expect(through.ok).toBe(false);
    expect(through.message).toMatch(/passes through a symbolic link/);

    // The whole bundle downloads as a tar of links, never of what they point to.
    const download = await server.read('blob', bundle.uuid, '');
    expect(download.ok).toBe(true);
    const entries = await readTar(download.body);
    expect(entries.find((e) => e.name.replace(/^\.\//, '') === 'pw')).toMatchObject({ type: 'symlink', linkname: 'a9/etc/passwd' });
    expect(entries.filter((e) => e.type !== 'symlink' && e.type !== 'directory').map((e) => e.name.replace(/^\.\//, ''))).toEqual(['readme']);
    expect(download.body.includes(host)).toBe(false);
    await expectOutsideUntouched();
  });

  it('refuses an entry written through a link that points outside (l -> dir, then l/x)', async () => {
    const zip = buildZip([linkEntry('l', join(outside, 'somedir')), { name: 'l/x', data: 'pwned' }]);
    await expectRefused(await server.uploadArchive('through-out.zip', zip), /rejected, nothing stored: entry 'l\/x' lies below 'l', which is a symbolic link/);
  });

  it('refuses an entry written through a link inside the bundle (l -> sub, then l/x)', async () => {
    const zip = buildZip([{ name: 'sub/', mode: S_IFDIR | 0o755 }, linkEntry('l', 'sub'), { name: 'l/x', data: 'x' }]);
    await expectRefused(await server.uploadArchive('through-in.zip', zip), /rejected, nothing stored: entry 'l\/x' lies below 'l', which is a symbolic link/);
  });

  it('refuses an entry written through a chain of links that reaches outside', async () => {
    const zip = buildZip([...linkChain(), { name: `a9${outside}/somedir/x`, data: 'pwned' }]);
    await expectRefused(await server.uploadArchive('through-chain.zip', zip), /rejected, nothing stored: entry 'a9\/.*x' lies below 'a9', which is a symbolic link/);
  });

  it('strips setuid, setgid and sticky bits', async () => {
    const zip = buildZip([
      { name: 'suid', data: '#!/bin/sh\n', mode: S_IFREG | 0o4755 },
      { name: 'd/', mode: S_IFDIR | 0o3775 },
      { name: 'd/sgid', data: 'x', mode: S_IFREG | 0o2711 },
    ]);
    const { bundle, error } = await server.uploadArchive('modes.zip', zip);
    expect(error).toBeNull();
    expect(await modeOf(server.storedPath(bundle.uuid, 'suid'))).toBe(0o755);
    expect(await modeOf(server.storedPath(bundle.uuid, 'd/sgid'))).toBe(0o711);
    expect((await modeOf(server.storedPath(bundle.uuid, 'd'))) & 0o7000).toBe(0);
  });

  it('refuses a character device entry and a FIFO entry, naming the entry', async () => {
    const device = buildZip([{ name: 'ok', data: 'ok' }, { name: 'null', mode: S_IFCHR | 0o666 }]);
    await expectRefused(await server.uploadArchive('device.zip', device), /rejected, nothing stored: entry 'null' is a character device/);
    const fifo = buildZip([{ name: 'pipe', mode: S_IFIFO | 0o644 }]);
    await expectRefused(await server.uploadArchive('fifo.zip', fifo), /rejected, nothing stored: entry 'pipe' is a FIFO/);
  });

  it('refuses a broken zip with a message that shows no server path', async () => {
    const broken = Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(200, 7)]);
    const result = await server.uploadArchive('broken.zip', broken);
    await expectRefused(result, /^Cannot unpack 'broken.zip': /);
    const failure = String((await server.getBundle(result.bundle.uuid)).metadata.failure_message);
    for (const text of [result.error?.message ?? '', failure]) {
      expect(text).not.toContain(server.test.home);
      expect(text).not.toContain(tmpdir());
    }
  });

  it('refuses a zip that unpacks to more than the upload limit, before writing it', async () => {
    const small = await ArchiveServer.start({ maxUploadBytes: 1024 * 1024 });
    try {
      const bomb = buildZip([{ name: 'zeros', data: Buffer.alloc(64 * 1024 * 1024), deflate: true }]);
      expect(bomb.length).toBeLessThan(1024 * 1024);
      const { bundle, error } = await small.uploadArchive('bomb.zip', bomb);
      expect(error?.message).toMatch(/^Archive 'bomb.zip' rejected, nothing stored: it unpacks to more than the server's limit of 1048576 bytes/);
      expect((await small.getBundle(bundle.uuid)).state).toBe('failed');
      expect(await exists(small.storedPath(bundle.uuid))).toBe(false);
    } finally {
      await small.stop();
    }
  });

  it('refuses a zip whose data does not match its checksum', async () => {
    const zip = buildZip([{ name: 'data.txt', data: 'original' }]);
    zip.write('tampered', 30 + 'data.txt'.length);
    await expectRefused(await server.uploadArchive('crc.zip', zip), /^Cannot unpack 'crc.zip': .*'data.txt'.*checksum/);
  });
});

describe('tar uploads', () => {
  const setuidEntries = [
    { name: 'suid', mode: 0o4755, uid: 4242, gid: 4242, data: '#!/bin/sh\n' },
    // Owned by root in the archive: no chown happens, which would have cleared the bit by itself.
    { name: 'suid-root', mode: 0o4755, uid: 0, gid: 0, data: '#!/bin/sh\n' },
    { name: 'd', type: 'directory' as const, mode: 0o3775, uid: 4242, gid: 4242 },
    { name: 'd/sgid', mode: 0o2711, uid: 4242, gid: 4242, data: 'x' },
  ];

  it.each([
    ['tar', (b: Buffer) => b],
    ['tar.gz', (b: Buffer) => gzipSync(b)],
  ])('stores a setuid file from a .%s without the bit and without the archive owner', async (suffix, wrap) => {
    const { bundle, error } = await server.uploadArchive(`modes.${suffix}`, wrap(await buildTar(setuidEntries)));
    expect(error).toBeNull();
    const file = server.storedPath(bundle.uuid, 'suid');
    expect(await modeOf(file)).toBe(0o755);
    expect(await modeOf(server.storedPath(bundle.uuid, 'suid-root'))).toBe(0o755);
    expect(await modeOf(server.storedPath(bundle.uuid, 'd/sgid'))).toBe(0o711);
    expect((await modeOf(server.storedPath(bundle.uuid, 'd'))) & 0o7000).toBe(0);
    expect((await stat(file)).uid).toBe(process.getuid?.());
    const download = await readTar((await server.read('blob', bundle.uuid, '')).body);
    expect(download.find((e) => e.name.replace(/^\.\//, '') === 'suid')?.mode).toBe(0o755);
  });

  it('refuses a hard link through a chain of links to /etc/passwd', async () => {
    const chain = linkChain().map((l) => ({ name: l.name, type: 'symlink' as const, linkname: String(l.data) }));
    const tarball = await buildTar([...chain, { name: 'h', type: 'link', linkname: 'a9/etc/passwd' }]);
    await expectRefused(await server.uploadArchive('hardlink.tar', tarball), /rejected, nothing stored: hard link 'h' -> 'a9\/etc\/passwd' passes through 'a9'/);
  });

  it('refuses a character device entry and a FIFO entry, naming the entry', async () => {
    const device = await buildTar([{ name: 'ok', data: 'ok' }, { name: 'null', type: 'character-device', devmajor: 1, devminor: 3 }]);
    await expectRefused(await server.uploadArchive('device.tar', device), /rejected, nothing stored: entry 'null' is a character device/);
    const fifo = await buildTar([{ name: 'pipe', type: 'fifo' }]);
    await expectRefused(await server.uploadArchive('fifo.tar.gz', gzipSync(fifo)), /rejected, nothing stored: entry 'pipe' is a FIFO/);
  });
});

describe('single compressed files', () => {
  it.each(['...gz', '..gz'])('stores %s as a file inside the bundle, whatever its name says', async (name) => {
    const { bundle, error } = await server.uploadArchive(name, gzipSync('hello\n'));
    expect(error).toBeNull();
    expect(bundle.state).toBe('ready');
    expect((await server.read('blob', bundle.uuid, '')).body.toString()).toBe('hello\n');
    await expectOutsideUntouched();
  });
});

describe('run results uploaded by a worker', () => {
  it('are stored without setuid bits and without the archive owner', async () => {
    const results = await buildTar([
      { name: './stdout', data: 'done\n' },
      { name: './suid', mode: 0o6755, uid: 4242, gid: 4242, data: 'x' },
      { name: './suid-root', mode: 0o4755, uid: 0, gid: 0, data: 'x' },
    ]);
    const { run, error } = await server.uploadRunResults(results);
    expect(error).toBeNull();
    const file = server.storedPath(run.uuid, 'suid');
    expect(await modeOf(file)).toBe(0o755);
    expect(await modeOf(server.storedPath(run.uuid, 'suid-root'))).toBe(0o755);
    expect((await stat(file)).uid).toBe(process.getuid?.());
  });

  it('are refused with a device node or a FIFO, and nothing is stored', async () => {
    for (const [name, type, reason] of [
      ['tty', 'character-device', /entry 'tty' is a character device/],
      ['disk', 'block-device', /entry 'disk' is a block device/],
      ['pipe', 'fifo', /entry 'pipe' is a FIFO/],
    ] as const) {
      const results = await buildTar([{ name: './stdout', data: 'done\n' }, { name: `./${name}`, type, devmajor: 1, devminor: 3 }]);
      const { run, error } = await server.uploadRunResults(results);
      expect(error?.message).toMatch(reason);
      expect(await exists(server.storedPath(run.uuid))).toBe(false);
    }
    await expectOutsideUntouched();
  });

  it('are refused when they write through a link they hold (l -> outside dir, then l/x)', async () => {
    const results = await buildTar([
      { name: './l', type: 'symlink', linkname: join(outside, 'somedir') },
      { name: './l/x', data: 'pwned' },
    ]);
    const { run, error } = await server.uploadRunResults(results);
    expect(error?.message).toMatch(/rejected, nothing stored: entry 'l\/x' lies below 'l', which is a symbolic link/);
    expect(await exists(server.storedPath(run.uuid))).toBe(false);
    await expectOutsideUntouched();
  });
});
