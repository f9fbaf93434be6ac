import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { locateRunPath, openRunDirectory, RunPathError, splitRunPath, type RunFiles } from './run-paths.js';

/** What locateRunPath found, as plain facts (its held parent closed). */
async function resolveRunPath(files: RunFiles, subpath: string): Promise<{ kind: string; size: number; name: string; hidden: string[]; root: string }> {
  const entry = await locateRunPath(files, subpath);
  await entry.parent.close();
  return { kind: entry.kind, size: entry.stat.size, name: entry.name, hidden: entry.hidden, root: entry.mount?.hostPath ?? files.runDir };
}

let files: RunFiles;
let outside: string;

beforeAll(() => {
  const root = mkdtempSync(path.join(tmpdir(), 'run-paths-'));
  const runDir = path.join(root, 'run');
  const dep = path.join(root, 'dep-cache', 'data');
  outside = path.join(root, 'secret.txt');
  writeFileSync(outside, 'secret');
  mkdirSync(path.join(runDir, 'sub'), { recursive: true });
  mkdirSync(path.join(runDir, 'in'), { recursive: true }); // empty mount point, as the supervisor makes it
  mkdirSync(path.join(runDir, 'nested', 'key'), { recursive: true });
  mkdirSync(dep, { recursive: true });
  writeFileSync(path.join(runDir, 'stdout'), 'out');
  writeFileSync(path.join(runDir, 'sub', 'a.txt'), 'a');
  writeFileSync(path.join(dep, 'lines.txt'), 'lines');
  symlinkSync(outside, path.join(runDir, 'link-out'));
  symlinkSync(path.join(root), path.join(runDir, 'dir-link'));
  symlinkSync('/etc', path.join(dep, 'etc-link'));
  files = {
    runDir,
    mounts: [
      { path: 'in', hostPath: dep },
      { path: 'nested/key', hostPath: dep },
    ],
  };
});

async function refusal(subpath: string): Promise<RunPathError> {
  const error = await resolveRunPath(files, subpath).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(RunPathError);
  return error as RunPathError;
}

describe('resolveRunPath', () => {
  it('resolves files and directories inside the run dir', async () => {
    expect(await resolveRunPath(files, 'sub/a.txt')).toMatchObject({ kind: 'file', size: 1, name: 'a.txt' });
    expect(await resolveRunPath(files, '')).toMatchObject({ kind: 'directory', name: path.basename(files.runDir) });
    expect(await resolveRunPath(files, './sub//a.txt')).toMatchObject({ kind: 'file' });
  });

  it('hides dependency mount points from listings of the directories above them', async () => {
    expect((await resolveRunPath(files, '')).hidden).toEqual(['in', 'nested/key']);
    expect((await resolveRunPath(files, 'nested')).hidden).toEqual(['key']);
    expect((await resolveRunPath(files, 'sub')).hidden).toEqual([]);
  });

  it("resolves KEY/file into the dependency's cached copy", async () => {
    const dep = files.mounts[0]?.hostPath ?? '';
    expect(await resolveRunPath(files, 'in/lines.txt')).toMatchObject({ kind: 'file', size: 5, name: 'lines.txt', root: dep });
    expect(await resolveRunPath(files, 'nested/key/lines.txt')).toMatchObject({ kind: 'file', size: 5, root: dep });
    expect(await resolveRunPath(files, 'in')).toMatchObject({ kind: 'directory', name: path.basename(dep) });
  });

  it('refuses .. anywhere, even where it would stay inside', async () => {
    expect((await refusal('../secret.txt')).code).toBe('bad_request');
    expect((await refusal('sub/../../secret.txt')).code).toBe('bad_request');
    expect((await refusal('sub/../stdout')).code).toBe('bad_request');
    expect((await refusal('in/../../secret.txt')).code).toBe('bad_request');
    expect(() => splitRunPath('a/../b')).toThrow(/may not contain/);
  });

  it('refuses absolute paths', async () => {
    expect((await refusal('/etc/passwd')).code).toBe('bad_request');
    expect((await refusal(outside)).code).toBe('bad_request');
  });

  it('reports a symbolic link as a link and never passes through one', async () => {
    expect(await resolveRunPath(files, 'link-out')).toMatchObject({ kind: 'link' });
    expect((await refusal('dir-link/secret.txt')).code).toBe('not_found');
    expect((await refusal('in/etc-link/passwd')).code).toBe('not_found');
    expect((await refusal('no-such-file')).code).toBe('not_found');
  });
});

describe('openRunDirectory', () => {
  it('opens a directory inside the run and lists it', async () => {
    const { dir } = await openRunDirectory(files, 'sub');
    expect(await dir.list()).toEqual(['a.txt']);
    await dir.close();
  });

  it('refuses a link where a directory is expected', async () => {
    await expect(openRunDirectory(files, 'dir-link')).rejects.toThrow(/symbolic link/);
    await expect(openRunDirectory(files, 'stdout')).rejects.toThrow(/doesn't exist/);
  });
});
