import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resolveInStore } from './shared-store.js';

const UUID = '0x0123456789abcdef0123456789abcdef';
let root: string;

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'shared-store-'));
  mkdirSync(join(root, 'dir', 'deeper'), { recursive: true });
  writeFileSync(join(root, 'dir', 'file.txt'), 'x');
  symlinkSync('/etc', join(root, 'up'));
  symlinkSync('file.txt', join(root, 'dir', 'alias'));
});

afterEach(() => rmSync(root, { recursive: true, force: true }));

describe('resolveInStore', () => {
  it('finds the whole bundle, a directory and a file inside it', async () => {
    expect(await resolveInStore(root, '', UUID)).toEqual({ path: root, isDirectory: true });
    expect(await resolveInStore(root, 'dir/deeper', UUID)).toEqual({ path: join(root, 'dir', 'deeper'), isDirectory: true });
    expect(await resolveInStore(root, './dir//file.txt', UUID)).toEqual({ path: join(root, 'dir', 'file.txt'), isDirectory: false });
  });

  it('refuses a link as the target or on the way, and never looks past it', async () => {
    await expect(resolveInStore(root, 'up', UUID)).rejects.toThrow(/'up' of bundle 0x0123.* symbolic link/);
    await expect(resolveInStore(root, 'up/passwd', UUID)).rejects.toThrow(/symbolic link/);
    await expect(resolveInStore(root, 'dir/alias', UUID)).rejects.toThrow(/symbolic link/);
  });

  it("refuses '..' and paths that do not exist", async () => {
    await expect(resolveInStore(root, 'dir/../../x', UUID)).rejects.toThrow(/may not contain '\.\.'/);
    await expect(resolveInStore(root, 'nope', UUID)).rejects.toThrow(/does not exist/);
    await expect(resolveInStore(root, 'dir/file.txt/more', UUID)).rejects.toThrow(/does not exist/);
  });
});
