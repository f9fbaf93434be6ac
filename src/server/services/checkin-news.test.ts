import { describe, expect, it } from 'vitest';
import type { WorkerCheckin } from '../../protocol/index.js';
import { checkinFingerprint, isNewsCheckin } from './checkin-news.js';

const body: WorkerCheckin = {
  protocol_version: 1, hostname: 'h', tag: null, tag_exclusive: false, cpus: 4, gpus: 0, memory_bytes: 8, free_disk_bytes: 100,
  slots: 2, runs_left: null, cached_dependencies: ['0xa:'], docker_ok: true, docker_message: null,
  runs: [{ uuid: '0x0123456789abcdef0123456789abcdef', assignment_id: 'a1', state: 'running', progress: { run_status: 'Running', time: 1 } }],
};
const at = (checkin: WorkerCheckin, time: number): { fingerprint: string; time: number } => ({ fingerprint: checkinFingerprint(checkin, null), time });

describe('isNewsCheckin', () => {
  it('is news the first time a worker checks in', () => {
    expect(isNewsCheckin(undefined, at(body, 0), 60_000)).toBe(true);
  });

  it('is not news when only the progress of its runs moved', () => {
    const later = { ...body, runs: body.runs.map((r) => ({ ...r, progress: { run_status: 'Running', time: 6 } })) };
    expect(isNewsCheckin(at(body, 0), at(later, 5_000), 60_000)).toBe(false);
  });

  it.each([
    ['a run changed state', { ...body, runs: body.runs.map((r) => ({ ...r, state: 'finalizing' as const })) }],
    ['a run is gone', { ...body, runs: [] }],
    ['fewer free slots', { ...body, slots: 1 }],
    ['the cache changed', { ...body, cached_dependencies: ['0xa:', '0xb:'] }],
    ['Docker went away', { ...body, docker_ok: false }],
  ])('is news when %s', (_what, next) => {
    expect(isNewsCheckin(at(body, 0), at(next, 5_000), 60_000)).toBe(true);
  });

  it('is news when the worker comes back after a silence longer than the timeout', () => {
    expect(isNewsCheckin(at(body, 0), at(body, 61_000), 60_000)).toBe(true);
  });
});
