import { execFileSync } from 'node:child_process';
import { constants, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { DirHandle, isPlainName, withDir } from './dir-handle.js';
import { removeTree, treeSize } from './tree.js';

let root: string;
let tree: string;
let outside: string;

beforeEach(() => {
  root = mkdtempSync(path.join(tmpdir(), 'dir-handle-'));
  tree = path.join(root, 'tree');
  outside = path.join(root, 'outside');
  mkdirSync(path.join(tree, 'sub'), { recursive: true });
  mkdirSync(outside);
  writeFileSync(path.join(outside, 'keep.txt'), 'outside bytes');
  writeFileSync(path.join(tree, 'a.txt'), 'aaaa');
  writeFileSync(path.join(tree, 'sub', 'b.txt'), 'bb');
  symlinkSync(outside, path.join(tree, 'dir-link'));
  symlinkSync(path.join(outside, 'keep.txt'), path.join(tree, 'file-link'));
  execFileSync('mkfifo', [path.join(tree, 'fifo')]);
});

describe('DirHandle', () => {
  it('opens sub-directories and files one name at a time', async () => {
    await withDir(DirHandle.open(tree), async (dir) => {
      expect(await dir.list()).toEqual(['a.txt', 'dir-link', 'fifo', 'file-link', 'sub']);
      const sub = await dir.openDir('sub');
      const file = await sub.openFile('b.txt', constants.O_RDONLY);
      expect((await file.readFile()).toString()).toBe('bb');
      await file.close();
      await sub.close();
    });
  });

  it('refuses links where a directory or a file is expected', async () => {
    await withDir(DirHandle.open(tree), async (dir) => {
      await expect(dir.openDir('dir-link')).rejects.toMatchObject({ code: 'link' });
      await expect(dir.openFile('file-link', constants.O_RDONLY)).rejects.toMatchObject({ code: 'link' });
      await expect(dir.openFile('file-link', constants.O_WRONLY | constants.O_CREAT)).rejects.toMatchObject({ code: 'link' });
      expect((await dir.lstat('dir-link'))?.isSymbolicLink()).toBe(true);
    });
    expect(readFileSync(path.join(outside, 'keep.txt'), 'utf8')).toBe('outside bytes');
  });

  it('refuses a FIFO, for reading and for writing, without blocking', async () => {
    await withDir(DirHandle.open(tree), async (dir) => {
      await expect(dir.openFile('fifo', constants.O_RDONLY)).rejects.toMatchObject({ code: 'not_file' });
      await expect(dir.openFile('fifo', constants.O_WRONLY)).rejects.toMatchObject({ code: 'not_file' });
      await expect(dir.openFile('sub', constants.O_RDONLY)).rejects.toMatchObject({ code: 'not_file' });
    });
  });

  it('refuses names of more than one part', async () => {
    expect(isPlainName('a')).toBe(true);
    for (const name of ['', '.', '..', 'a/b', 'a\0b']) expect(isPlainName(name)).toBe(false);
    await withDir(DirHandle.open(tree), async (dir) => {
      await expect(dir.openDir('dir-link/')).rejects.toThrow(/Invalid entry name/);
      await expect(dir.openFile('../outside/keep.txt', constants.O_RDONLY)).rejects.toThrow(/Invalid entry name/);
    });
  });

  it('keeps to the directory it opened when that directory is renamed and a link put in its place', async () => {
    await withDir(DirHandle.open(tree), async (dir) => {
      const sub = await dir.openDir('sub');
      execFileSync('mv', [path.join(tree, 'sub'), path.join(tree, 'sub-moved')]);
      symlinkSync(outside, path.join(tree, 'sub'));
      expect(await sub.list()).toEqual(['b.txt']);
      await sub.close();
    });
  });
});

describe('tree walks', () => {
  it('treeSize counts regular files only, never through a link', async () => {
    expect(await treeSize(tree)).toBe(6);
  });

  it('removeTree removes links themselves and leaves what they point to', async () => {
    await removeTree(tree);
    expect(existsSync(tree)).toBe(false);
    expect(readFileSync(path.join(outside, 'keep.txt'), 'utf8')).toBe('outside bytes');
    await removeTree(tree); // already gone: fine
  });
});
