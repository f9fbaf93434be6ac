import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Parser, type ReadEntry } from 'tar';
import { describe, expect, it } from 'vitest';
import { defaultUploadName, planPathUpload, planTextUpload } from './upload-source.js';

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.from(chunk as Uint8Array));
  return Buffer.concat(chunks);
}

async function tarEntries(stream: Readable): Promise<string[]> {
  const entries: string[] = [];
  const parser = new Parser({
    onReadEntry: (entry: ReadEntry) => {
      entries.push(entry.type === 'SymbolicLink' ? `${entry.path} -> ${entry.linkpath ?? ''}` : entry.path);
      entry.resume();
    },
  });
  const done = new Promise<void>((resolve) => parser.on('end', () => resolve()));
  parser.end(await readAll(stream));
  await done;
  return entries.map((e) => e.replace(/\/$/, '')).sort();
}

function fixture(): string {
  const root = mkdtempSync(join(tmpdir(), 'cl-upload-'));
  const dir = join(root, 'data');
  mkdirSync(join(dir, 'sub'), { recursive: true });
  mkdirSync(join(dir, '.git'));
  writeFileSync(join(dir, '.git', 'HEAD'), 'x');
  writeFileSync(join(dir, '._junk'), 'x');
  writeFileSync(join(dir, 'a.txt'), 'hello\n');
  writeFileSync(join(dir, 'sub', 'b.txt'), 'b');
  symlinkSync('a.txt', join(dir, 'link'));
  writeFileSync(join(root, 'single.txt'), 'single');
  writeFileSync(join(root, 'pack.tar.gz'), 'not really gzip');
  return root;
}

describe('planPathUpload', () => {
  it('sends a single file raw, unpacked only when it is an archive', async () => {
    const root = fixture();
    const file = await planPathUpload(['single.txt'], root);
    expect(file).toMatchObject({ unpack: false, filename: 'single.txt', defaultName: 'single.txt', totalBytes: 6 });
    expect((await readAll(file.open())).toString()).toBe('single');
    const archive = await planPathUpload([join(root, 'pack.tar.gz')], '/');
    expect(archive).toMatchObject({ unpack: true, filename: 'pack.tar.gz', defaultName: 'pack' });
  });

  it('sends a directory as a tar of its contents, without excluded names, links kept', async () => {
    const root = fixture();
    const plan = await planPathUpload(['data'], root);
    expect(plan).toMatchObject({ unpack: true, filename: 'x.tar', defaultName: 'data' });
    expect(await tarEntries(plan.open())).toEqual(['a.txt', 'link -> a.txt', 'sub', 'sub/b.txt']);
  });

  it('sends several paths as a directory holding each basename', async () => {
    const root = fixture();
    const plan = await planPathUpload(['data/sub', 'single.txt'], root);
    expect(plan).toMatchObject({ unpack: true, filename: 'x.tar', defaultName: 'sub-single.txt' });
    expect(await tarEntries(plan.open())).toEqual(['single.txt', 'sub', 'sub/b.txt']);
  });

  it('refuses missing paths and clashing basenames before anything is sent', async () => {
    const root = fixture();
    await expect(planPathUpload(['single.txt', 'nope'], root)).rejects.toThrow("Cannot upload 'nope': no such file or directory.");
    await expect(planPathUpload([], root)).rejects.toThrow(/Nothing to upload/);
    mkdirSync(join(root, 'other'));
    writeFileSync(join(root, 'other', 'single.txt'), '');
    await expect(planPathUpload(['single.txt', 'other/single.txt'], root)).rejects.toThrow(/share the name 'single.txt'/);
  });
});

describe('text uploads and names', () => {
  it('uploads -c text as a file named contents', async () => {
    const plan = planTextUpload('hi there');
    expect(plan).toMatchObject({ unpack: false, filename: 'contents', defaultName: 'contents', totalBytes: 8 });
    expect((await readAll(plan.open())).toString()).toBe('hi there');
  });

  it('joins basenames without archive suffixes', () => {
    expect(defaultUploadName(['/x/code.tgz', '/y/data'])).toBe('code-data');
  });
});
