import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createRecordingLogger } from '../../common/recording-logger.js';
import { initialRunState } from './run-state.js';
import { RunRecords, type RunRecord } from './run-records.js';

const UUID = '0x' + 'a'.repeat(32);
let dir = '';

function record(stage: RunRecord['state']['stage'] = 'preparing', containerId: string | null = null): RunRecord {
  const state = { ...initialRunState({ uuid: UUID, assignmentId: 'as-1', memoryLimitBytes: 1 << 20 }, 1000), stage };
  return {
    spec: {
      uuid: UUID,
      command: 'echo hi',
      owner_id: 'u1',
      dependencies: [],
      resources: { docker_image: 'img', cpus: 1, gpus: 0, memory: 1 << 20, disk: 0, time: 0, network: false },
      exclude_patterns: [],
    },
    assignmentId: 'as-1',
    allocation: { cpuset: [1], gpus: [] },
    state,
    containerId,
    imageDigest: null,
    mountPoints: [{ path: 'in', isDirectory: true }],
    dependencyMounts: [],
    killRequestedAt: null,
  };
}

beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'cl-run-records-'));
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('run records', () => {
  it('keeps the newest record of a run and reads it back whole', async () => {
    const records = new RunRecords(dir, createRecordingLogger());
    records.save(record('preparing'));
    records.save(record('running', 'c1'));
    records.save(record('finalizing', 'c1'));
    await records.flush();
    const loaded = await new RunRecords(dir, createRecordingLogger()).loadAll();
    expect(loaded).toEqual([record('finalizing', 'c1')]);
    // Only the record itself: no temp file is left beside it.
    expect(readdirSync(dir)).toEqual([`${UUID}.json`]);
  });

  it('removes a record only after a write still in flight', async () => {
    const records = new RunRecords(dir, createRecordingLogger());
    records.save(record('running', 'c1'));
    await records.remove(UUID);
    expect(readdirSync(dir)).toEqual([]);
  });

  it('drops a damaged record and a temp file left by a crash, logging the first', async () => {
    writeFileSync(path.join(dir, `${UUID}.json`), '{"version":1,"spec":');
    writeFileSync(path.join(dir, `.${UUID}.json.123.tmp`), 'half');
    const log = createRecordingLogger();
    expect(await new RunRecords(dir, log).loadAll()).toEqual([]);
    expect(readdirSync(dir)).toEqual([]);
    expect(log.messages().join('\n')).toMatch(/unreadable run record/);
  });

  it('writes records readable by the worker alone', async () => {
    const records = new RunRecords(dir, createRecordingLogger());
    records.save(record());
    await records.flush();
    const file = path.join(dir, `${UUID}.json`);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ version: 1, assignmentId: 'as-1' });
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });
});
