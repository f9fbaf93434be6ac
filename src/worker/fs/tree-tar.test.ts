import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import * as tar from 'tar';
import { beforeAll, describe, expect, it } from 'vitest';
import { encodeTarHeader } from './tar-header.js';
import { packTree } from './tree-tar.js';

let src: string;
const longDir = `${'d'.repeat(120)}/${'e'.repeat(120)}`;
const longName = `${'f'.repeat(99)}.txt`;
const longTarget = `../${'t'.repeat(150)}`;

beforeAll(() => {
  src = mkdtempSync(path.join(tmpdir(), 'tree-tar-'));
  mkdirSync(path.join(src, longDir), { recursive: true });
  writeFileSync(path.join(src, longDir, longName), 'deep');
  writeFileSync(path.join(src, 'é-utf8.txt'), Buffer.alloc(1000, 7));
  writeFileSync(path.join(src, 'setuid'), '#!/bin/sh\n');
  chmodSync(path.join(src, 'setuid'), 0o4755);
  symlinkSync('/etc/passwd', path.join(src, 'abs-link'));
  symlinkSync(longTarget, path.join(src, 'long-link'));
  execFileSync('mkfifo', [path.join(src, 'fifo')]);
  mkdirSync(path.join(src, 'skip'));
  writeFileSync(path.join(src, 'skip', 'x'), 'x');
});

async function unpack(exclude?: (relative: string) => boolean): Promise<string> {
  const out = mkdtempSync(path.join(tmpdir(), 'tree-tar-out-'));
  await pipeline(packTree(src, exclude ? { exclude } : {}), tar.x({ cwd: out, strict: true, preservePaths: true }));
  return out;
}

describe('packTree', () => {
  it('writes a tar that tar reads back: long names and link targets through pax, bytes exact', async () => {
    const out = await unpack();
    expect(readFileSync(path.join(out, longDir, longName), 'utf8')).toBe('deep');
    expect(readFileSync(path.join(out, 'é-utf8.txt'))).toEqual(Buffer.alloc(1000, 7));
    expect(readlinkSync(path.join(out, 'abs-link'))).toBe('/etc/passwd');
    expect(readlinkSync(path.join(out, 'long-link'))).toBe(longTarget);
  });

  it('drops setuid bits and leaves out FIFOs', async () => {
    const out = await unpack();
    expect(statSync(path.join(out, 'setuid')).mode & 0o7777).toBe(0o755);
    expect(() => statSync(path.join(out, 'fifo'))).toThrow();
  });

  it('leaves out what exclude names, with everything below it', async () => {
    const out = await unpack((relative) => relative === 'skip');
    expect(statSync(path.join(out, 'setuid')).isFile()).toBe(true);
    expect(() => statSync(path.join(out, 'skip'))).toThrow();
  });
});

describe('encodeTarHeader', () => {
  it('writes a checksum that validates and a size beyond ustar through pax', () => {
    const block = encodeTarHeader({ name: './a', type: 'file', mode: 0o644, size: 5, mtime: 0 });
    expect(block.length).toBe(512);
    let sum = 0;
    for (let i = 0; i < 512; i += 1) sum += i >= 148 && i < 156 ? 0x20 : (block[i] as number);
    expect(parseInt(block.subarray(148, 155).toString('ascii'), 8)).toBe(sum);
    const big = encodeTarHeader({ name: './big', type: 'file', mode: 0o644, size: 9 * 1024 ** 3, mtime: 0 });
    expect(big.subarray(0, 1024).toString('utf8')).toContain(`size=${9 * 1024 ** 3}\n`);
  });
});
