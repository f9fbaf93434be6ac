import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as tarStream from 'tar-stream';
import { describe, expect, it } from 'vitest';
import { compileExclusions, globToRegExp, isExcluded } from './upload-exclusion.js';
import { createResultsTar } from './upload-tar.js';

describe('upload exclusion rules', () => {
  const rules = compileExclusions(['data', 'deps/in.txt'], ['*.log', 'cache', 'out/tmp?', '[ab].bin']);

  it('leaves out dependency mount points and everything under them', () => {
    expect(isExcluded('./data', rules)).toBe(true);
    expect(isExcluded('data/x', rules)).toBe(true);
    expect(isExcluded('deps/in.txt', rules)).toBe(true);
    expect(isExcluded('deps', rules)).toBe(false);
    expect(isExcluded('database', rules)).toBe(false);
  });

  it('matches patterns like tar --exclude: whole path or any tail, dirs drop their trees', () => {
    expect(isExcluded('run.log', rules)).toBe(true);
    expect(isExcluded('a/b/run.log', rules)).toBe(true);
    expect(isExcluded('cache', rules)).toBe(true);
    expect(isExcluded('x/cache/y.txt', rules)).toBe(true);
    expect(isExcluded('cached', rules)).toBe(false);
    expect(isExcluded('out/tmp1', rules)).toBe(true);
    expect(isExcluded('out/tmp12', rules)).toBe(false);
    expect(isExcluded('a.bin', rules)).toBe(true);
    expect(isExcluded('c.bin', rules)).toBe(false);
    expect(isExcluded('stdout', rules)).toBe(false);
    expect(isExcluded('.', rules)).toBe(false);
  });

  it('escapes regex characters in globs', () => {
    expect(globToRegExp('a+b(1).txt').test('a+b(1).txt')).toBe(true);
    expect(globToRegExp('a.txt').test('abtxt')).toBe(false);
  });

  it('streams a plain tar of the run dir without excluded entries, keeping symlinks as links', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cl-tar-test-'));
    try {
      writeFileSync(path.join(dir, 'stdout'), 'hi\n');
      writeFileSync(path.join(dir, 'debug.log'), 'noise');
      mkdirSync(path.join(dir, 'data'));
      writeFileSync(path.join(dir, 'data', 'secret'), 'dep');
      mkdirSync(path.join(dir, 'sub'));
      writeFileSync(path.join(dir, 'sub', 'keep.txt'), 'k');
      symlinkSync('/etc/passwd', path.join(dir, 'link'));
      const extract = tarStream.extract();
      createResultsTar(dir, compileExclusions(['data'], ['*.log']), 0).stream.pipe(extract);
      const seen: Record<string, string> = {};
      for await (const entry of extract) {
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        seen[entry.header.name.replace(/^\.\//, '')] = entry.header.type === 'symlink' ? `-> ${entry.header.linkname}` : Buffer.concat(chunks).toString();
      }
      expect(Object.keys(seen).filter((k) => k !== '' && k !== './').sort()).toEqual(['link', 'stdout', 'sub/', 'sub/keep.txt']);
      expect(seen.stdout).toBe('hi\n');
      expect(seen.link).toBe('-> /etc/passwd');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
