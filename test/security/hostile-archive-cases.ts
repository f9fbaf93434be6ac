// Rows of the hostile-input suite: uploaded archives (zip, tar, tar.gz) whose entries climb out,
// are absolute, write through links, are hard links to host files, devices or FIFOs. A refused
// upload fails its (empty) dataset and stores nothing; setuid bits and links are stored, as
// dropped bits and as links, never as the host's files.
import { lstat, readlink, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'vitest';
import { routes, type Bundle } from '../../src/protocol/index.js';
import { buildTar, type TarEntrySpec } from './archive-harness.js';
import { expectHttpRefusal, newDataset, rowOf, type HostileContext } from './hostile-context.js';
import type { HostileCase, Outcome } from './hostile-table.js';
import { call } from './security-helpers.js';
import { S_IFCHR, S_IFDIR, S_IFIFO, S_IFREG, buildZip, linkEntry, type ZipEntrySpec } from './zip-writer.js';

type Case = HostileCase<HostileContext>;

/** Deep enough to climb from the server's store to `/`, then down to `leaf` in the canary. */
function climbTo(ctx: HostileContext, leaf: string): string {
  return `${'../'.repeat(40)}${ctx.canary.dir.slice(1)}/${leaf}`;
}

/** `b -> .`, `a1 -> b/..`, …, `a9 -> a8/..`: each link looks inside, yet a9 resolves to `/`. */
function linkChain(): ZipEntrySpec[] {
  const links = [linkEntry('b', '.'), linkEntry('a1', 'b/..')];
  for (let i = 2; i <= 9; i += 1) links.push(linkEntry(`a${i}`, `a${i - 1}/..`));
  return links;
}

const asTarLinks = (links: ZipEntrySpec[]): TarEntrySpec[] => links.map((l) => ({ name: l.name, type: 'symlink', linkname: String(l.data) }));

export async function uploadInto(ctx: HostileContext, uuid: string, filename: string, bytes: Buffer, unpack = true) {
  return call(ctx.url, 'PUT', routes.uploadContents(uuid, { unpack, filename }), { token: ctx.root.token, bytes });
}

/** A refused upload: the specific message, the dataset failed, and only its row changed. */
function refusedUpload(filename: string, archive: (ctx: HostileContext) => Buffer | Promise<Buffer>, reason: RegExp, attack: string): Case {
  return {
    family: 'archive',
    attack: `${filename}: ${attack}`,
    expected: '400; dataset failed, nothing stored',
    prepare: (ctx) => newDataset(ctx, `upload-${filename.replace(/\W/g, '-')}`),
    attempt: async (ctx, uuid): Promise<Outcome> => {
      const answer = await uploadInto(ctx, uuid, filename, await archive(ctx));
      const result = expectHttpRefusal(answer, 400, 'bad_request', reason);
      const after = (await call(ctx.url, 'GET', routes.bundle(uuid), { token: ctx.root.token })).body as Bundle;
      expect(after.state).toBe('failed');
      return { result, allowed: [rowOf(uuid)] };
    },
  };
}

const REJECTED = String.raw`rejected, nothing stored: `;
const OUTSIDE = new RegExp(`${REJECTED}entry '.*' points outside the bundle`);
const BELOW_LINK = new RegExp(`${REJECTED}entry '.*' lies below '.*', which is a symbolic link`);

const zipCases: Case[] = [
  refusedUpload('short.zip', () => buildZip([{ name: '../evil', data: 'pwned' }]), OUTSIDE, "entry '../evil'"),
  refusedUpload('climb.zip', (ctx) => buildZip([{ name: 'ok', data: 'ok' }, { name: climbTo(ctx, 'victim.txt'), data: 'pwned' }]), OUTSIDE, 'entry climbing to overwrite a canary file'),
  refusedUpload('climb-new.zip', (ctx) => buildZip([{ name: climbTo(ctx, 'new.txt'), data: 'pwned' }]), OUTSIDE, 'entry climbing to create a canary file'),
  refusedUpload('absolute.zip', (ctx) => buildZip([{ name: `${ctx.canary.dir}/victim.txt`, data: 'pwned' }]), OUTSIDE, 'absolute entry naming a canary file'),
  refusedUpload('absolute-etc.zip', () => buildZip([{ name: '/etc/cl-hostile', data: 'pwned' }]), OUTSIDE, "absolute entry '/etc/…'"),
  refusedUpload('backslash.zip', () => buildZip([{ name: `${'..\\'.repeat(40)}evil`, data: 'pwned' }]), /points outside the bundle/, 'climbing with backslashes'),
  refusedUpload('mid-climb.zip', () => buildZip([{ name: 'a/b/../../../evil', data: 'pwned' }]), OUTSIDE, 'a/b/../../../evil'),
  refusedUpload('nul.zip', () => buildZip([{ name: 'evil\0.txt', data: 'pwned' }]), /has a NUL byte in its name/, 'NUL byte in a name'),
  refusedUpload('through-out.zip', (ctx) => buildZip([linkEntry('l', ctx.canary.dir), { name: 'l/victim.txt', data: 'pwned' }]), BELOW_LINK, 'link to the canary dir, then a file through it'),
  refusedUpload('through-in.zip', () => buildZip([{ name: 'sub/', mode: S_IFDIR | 0o755 }, linkEntry('l', 'sub'), { name: 'l/x', data: 'x' }]), BELOW_LINK, 'link inside, then a file through it'),
  refusedUpload('through-chain.zip', (ctx) => buildZip([...linkChain(), { name: `a9${ctx.canary.dir}/victim.txt`, data: 'pwned' }]), BELOW_LINK, 'chain of links resolving to /, then a file through it'),
  refusedUpload('device.zip', () => buildZip([{ name: 'ok', data: 'ok' }, { name: 'null', mode: S_IFCHR | 0o666 }]), /entry 'null' is a character device/, 'character device entry'),
  refusedUpload('fifo.zip', () => buildZip([{ name: 'pipe', mode: S_IFIFO | 0o644 }]), /entry 'pipe' is a FIFO/, 'FIFO entry'),
  refusedUpload('crc.zip', () => tamperedZip(), /^Cannot unpack 'crc.zip': .*checksum/, 'data not matching its checksum'),
];

function tamperedZip(): Buffer {
  const zip = buildZip([{ name: 'data.txt', data: 'original' }]);
  zip.write('tampered', 30 + 'data.txt'.length);
  return zip;
}

const tarCases: Case[] = [
  refusedUpload('short.tar', () => buildTar([{ name: '../evil', data: 'pwned' }]), OUTSIDE, "entry '../evil'"),
  refusedUpload('climb.tar', (ctx) => buildTar([{ name: climbTo(ctx, 'victim.txt'), data: 'pwned' }]), OUTSIDE, 'entry climbing to overwrite a canary file'),
  refusedUpload('climb.tar.gz', async (ctx) => gzipSync(await buildTar([{ name: climbTo(ctx, 'new.txt'), data: 'pwned' }])), OUTSIDE, 'gzipped entry climbing to create a canary file'),
  refusedUpload('absolute.tar', (ctx) => buildTar([{ name: `${ctx.canary.dir}/victim.txt`, data: 'pwned' }]), OUTSIDE, 'absolute entry naming a canary file'),
  refusedUpload('dir-climb.tar', () => buildTar([{ name: '../evil-dir', type: 'directory' }]), OUTSIDE, 'directory entry ../evil-dir'),
  refusedUpload('link-climb.tar', () => buildTar([{ name: '../evil-link', type: 'symlink', linkname: '/' }]), OUTSIDE, 'link entry named ../evil-link'),
  refusedUpload('through-out.tar', (ctx) => buildTar([{ name: 'l', type: 'symlink', linkname: ctx.canary.dir }, { name: 'l/victim.txt', data: 'pwned' }]), BELOW_LINK, 'link to the canary dir, then a file through it'),
  refusedUpload('through-chain.tar.gz', async (ctx) => gzipSync(await buildTar([...asTarLinks(linkChain()), { name: `a9${ctx.canary.dir}/victim.txt`, data: 'pwned' }])), BELOW_LINK, 'chain of links to /, then a file through it'),
  refusedUpload('hard-abs.tar', () => buildTar([{ name: 'h', type: 'link', linkname: '/etc/passwd' }]), /hard link 'h' -> '\/etc\/passwd'/, 'hard link to /etc/passwd'),
  refusedUpload('hard-canary.tar', (ctx) => buildTar([{ name: 'h', type: 'link', linkname: climbTo(ctx, 'secret.txt') }]), /hard link 'h' -> '.*secret.txt'/, 'hard link climbing to a canary file'),
  refusedUpload('hard-chain.tar', () => buildTar([...asTarLinks(linkChain()), { name: 'h', type: 'link', linkname: 'a9/etc/passwd' }]), /hard link 'h' -> 'a9\/etc\/passwd' passes through 'a9'/, 'hard link through a chain of links'),
  refusedUpload('device.tar', () => buildTar([{ name: 'null', type: 'character-device', devmajor: 1, devminor: 3 }]), /entry 'null' is a character device/, 'character device entry'),
  refusedUpload('block.tar', () => buildTar([{ name: 'disk', type: 'block-device', devmajor: 8, devminor: 0 }]), /entry 'disk' is a block device/, 'block device entry'),
  refusedUpload('fifo.tar.gz', async () => gzipSync(await buildTar([{ name: 'pipe', type: 'fifo' }])), /entry 'pipe' is a FIFO/, 'gzipped FIFO entry'),
];

/** An upload that is stored: only its own row and its own files change, as `check` says they must. */
function storedUpload(filename: string, archive: (ctx: HostileContext) => Buffer | Promise<Buffer>, attack: string, expected: string, check: (ctx: HostileContext, uuid: string) => Promise<string>): Case {
  return {
    family: 'archive',
    attack: `${filename}: ${attack}`,
    expected,
    prepare: (ctx) => newDataset(ctx, `kept-${filename.replace(/\W/g, '-')}`),
    attempt: async (ctx, uuid): Promise<Outcome> => {
      const answer = await uploadInto(ctx, uuid, filename, await archive(ctx));
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
      const result = await check(ctx, uuid);
      return { result, allowed: [rowOf(uuid, 'state|state_since|metadata|is_dir'), new RegExp(`^\\+ store bundles/${uuid}(/|\\s)`)] };
    },
  };
}

const SETUID_ENTRIES: TarEntrySpec[] = [
  { name: 'suid', mode: 0o4755, uid: 4242, gid: 4242, data: '#!/bin/sh\n' },
  { name: 'suid-root', mode: 0o4755, uid: 0, gid: 0, data: '#!/bin/sh\n' },
  { name: 'd', type: 'directory', mode: 0o3775 },
  { name: 'd/sgid', mode: 0o2711, data: 'x' },
];

const storedCases: Case[] = [
  storedUpload('modes.tar', () => buildTar(SETUID_ENTRIES), 'setuid, setgid and sticky bits', 'stored with the bits dropped', (ctx, uuid) => expectModes(ctx, uuid)),
  storedUpload('modes.zip', () => buildZip([
    { name: 'suid', data: '#!/bin/sh\n', mode: S_IFREG | 0o4755 },
    { name: 'suid-root', data: '#!/bin/sh\n', mode: S_IFREG | 0o4755 },
    { name: 'd/', mode: S_IFDIR | 0o3775 },
    { name: 'd/sgid', data: 'x', mode: S_IFREG | 0o2711 },
  ]), 'setuid, setgid and sticky bits', 'stored with the bits dropped', (ctx, uuid) => expectModes(ctx, uuid)),
  storedUpload('links.zip', (ctx) => buildZip([linkEntry('to-root', '/'), linkEntry('to-secret', `${ctx.canary.dir}/secret.txt`), ...linkChain()]), 'links to / and to a canary file', 'stored as links; reads through them refused', (ctx, uuid) => expectLinksOnly(ctx, uuid)),
  storedUpload('links.tar', (ctx) => buildTar([{ name: 'to-root', type: 'symlink', linkname: '/' }, { name: 'to-secret', type: 'symlink', linkname: `${ctx.canary.dir}/secret.txt` }]), 'links to / and to a canary file', 'stored as links; reads through them refused', (ctx, uuid) => expectLinksOnly(ctx, uuid)),
];

async function expectModes(ctx: HostileContext, uuid: string): Promise<string> {
  const at = (path: string) => join(ctx.cluster.serverHome, 'store', 'bundles', uuid, path);
  const modes = Object.fromEntries(await Promise.all(['suid', 'suid-root', 'd', 'd/sgid'].map(async (p) => [p, (await stat(at(p))).mode & 0o7777] as const)));
  expect(modes).toEqual({ suid: 0o755, 'suid-root': 0o755, d: expect.any(Number) as number, 'd/sgid': 0o711 });
  expect((modes.d ?? 0) & 0o7000).toBe(0);
  expect((await stat(at('suid'))).uid).toBe(process.getuid?.());
  return 'stored: suid 755, d/sgid 711, owner the server';
}

async function expectLinksOnly(ctx: HostileContext, uuid: string): Promise<string> {
  const at = (path: string) => join(ctx.cluster.serverHome, 'store', 'bundles', uuid, path);
  expect((await lstat(at('to-root'))).isSymbolicLink()).toBe(true);
  expect(await readlink(at('to-root'))).toBe('/');
  // Reading a link is refused (400); a path through one does not exist in the bundle (404).
  for (const [path, status] of [['to-secret', 400], ['to-root', 400], ['to-root/etc/passwd', 404]] as const) {
    const blob = await call(ctx.url, 'GET', routes.contentsBlob(uuid, path), { token: ctx.root.token });
    expect(blob.status, `blob ${path}`).toBe(status);
    expect(JSON.stringify(blob.body)).toMatch(/symbolic link/);
    expect(JSON.stringify(blob.body)).not.toContain(ctx.canary.secret);
  }
  return 'stored as links; reads of them 400, through them 404';
}

/** A single file whose name tries to climb: it is stored inside the bundle, under a plain name. */
const singleFileCases: Case[] = [
  storedUpload('../../escape.txt', () => Buffer.from('plain file\n'), 'single file named ../../escape.txt', 'stored inside the bundle', async (ctx, uuid) => {
    const blob = await call(ctx.url, 'GET', routes.contentsBlob(uuid, ''), { token: ctx.root.token });
    expect(blob.body).toBe('plain file\n');
    return 'stored inside the bundle';
  }),
];

export const archiveCases: Case[] = [...zipCases, ...tarCases, ...storedCases, ...singleFileCases];
