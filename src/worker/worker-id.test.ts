import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { resolveWorkerId, WORKER_ID_FILE } from './worker-id.js';

const dirs: string[] = [];
function workDir(): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cl-worker-id-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('the default worker id', () => {
  it('is the same on every start on one work dir, and differs on another', async () => {
    const dir = workDir();
    const first = await resolveWorkerId(dir, 'gpu box.local', null);
    expect(first).toMatch(/^gpu-box\.local-[0-9a-f]{8}$/);
    expect(await resolveWorkerId(dir, 'gpu box.local', null)).toBe(first);
    expect(await resolveWorkerId(workDir(), 'gpu box.local', null)).not.toBe(first);
  });

  it('gives way to --id, and is made anew when its file is damaged', async () => {
    const dir = workDir();
    expect(await resolveWorkerId(dir, 'host', 'chosen-id')).toBe('chosen-id');
    writeFileSync(path.join(dir, WORKER_ID_FILE), 'not a valid id!\n');
    const id = await resolveWorkerId(dir, 'host', null);
    expect(id).toMatch(/^host-[0-9a-f]{8}$/);
    expect(await resolveWorkerId(dir, 'host', null)).toBe(id);
  });
});
