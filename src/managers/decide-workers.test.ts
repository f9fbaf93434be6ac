// The worker manager's pure decision: floors and caps, pending workers, shapes and filters.
import { describe, expect, it } from 'vitest';
import type { StagedRunInfo } from '../protocol/index.js';
import { decideWorkers, needsWorker, shapeFor, type ManagedWorker, type ScalingPolicy } from './decide-workers.js';

const GIB = 1024 ** 3;
const NOW = 1_000_000;

const policy: ScalingPolicy = {
  minWorkers: 0,
  maxWorkers: 4,
  queue: null,
  users: null,
  baseShape: { cpus: 1, gpus: 0, memoryBytes: 2 * GIB },
  maxShape: { cpus: null, gpus: null, memoryBytes: null },
  pendingTimeoutMs: 300_000,
};

let next = 0;
function run(overrides: Partial<StagedRunInfo> = {}): StagedRunInfo {
  next += 1;
  return {
    uuid: `0x${next.toString(16).padStart(32, '0')}`,
    owner_name: 'alice',
    queue: null,
    cpus: 1,
    gpus: 0,
    memory_bytes: 2 * GIB,
    disk_bytes: 0,
    docker_image: 'codalab/default-cpu:latest',
    waiting_reason: 'No worker is connected.',
    last_updated: NOW,
    ...overrides,
  };
}

function worker(id: string, phase: ManagedWorker['phase'], startedAt = NOW - 1_000): ManagedWorker {
  return { id, phase, startedAt };
}

describe('decideWorkers', () => {
  it('starts nothing when no run waits and there is no floor', () => {
    const d = decideWorkers([], [], policy, NOW);
    expect(d).toEqual({ start: [], remove: [], unservable: [], heldBack: null });
  });

  it('starts one worker per run that needs one, each exiting when idle', () => {
    const d = decideWorkers([run(), run()], [], policy, NOW);
    expect(d.start).toHaveLength(2);
    expect(d.start.every((s) => s.exitWhenIdle)).toBe(true);
  });

  it('ignores runs no scheduling pass has looked at yet (a connected worker may take them)', () => {
    const d = decideWorkers([run({ waiting_reason: null })], [], policy, NOW);
    expect(d.start).toEqual([]);
  });

  it('keeps --min-workers running, with workers that do not exit when idle', () => {
    const d = decideWorkers([], [worker('a', 'alive')], { ...policy, minWorkers: 3 }, NOW);
    expect(d.start).toHaveLength(2);
    expect(d.start.every((s) => !s.exitWhenIdle && s.shape === policy.baseShape)).toBe(true);
  });

  it('counts pending workers toward --min-workers', () => {
    const d = decideWorkers([], [worker('a', 'pending'), worker('b', 'pending')], { ...policy, minWorkers: 2 }, NOW);
    expect(d.start).toEqual([]);
  });

  it('never goes beyond --max-workers, and says how many runs are left short', () => {
    const d = decideWorkers([run(), run(), run()], [worker('a', 'alive')], { ...policy, maxWorkers: 2 }, NOW);
    expect(d.start).toHaveLength(1);
    expect(d.heldBack).toBe('2 more run(s) need a worker; at --max-workers 2');
  });

  it('starts nothing for runs at --max-workers', () => {
    const d = decideWorkers([run()], [worker('a', 'alive'), worker('b', 'alive')], { ...policy, maxWorkers: 2 }, NOW);
    expect(d.start).toEqual([]);
    expect(d.heldBack).toBe('1 run(s) need a worker; at --max-workers 2');
  });

  it('does not start a second worker for runs while one of its workers is pending', () => {
    const d = decideWorkers([run(), run()], [worker('a', 'pending')], policy, NOW);
    expect(d.start).toEqual([]);
    expect(d.heldBack).toBe('2 run(s) need a worker; waiting for 1 pending worker(s) to check in first');
  });

  it('does not start workers for runs in the same pass as --min-workers ones', () => {
    const d = decideWorkers([run()], [], { ...policy, minWorkers: 1 }, NOW);
    expect(d.start).toHaveLength(1);
    expect(d.start[0]?.exitWhenIdle).toBe(false);
  });

  it('gives up on a worker pending beyond the timeout, and starts again for the runs', () => {
    const stuck = worker('stuck', 'pending', NOW - 300_001);
    const d = decideWorkers([run()], [stuck], policy, NOW);
    expect(d.remove).toEqual([{ id: 'stuck', reason: 'did not check in within 300 s' }]);
    expect(d.start).toHaveLength(1);
  });

  it('sizes each worker to its run, no smaller than the base shape', () => {
    const big = run({ cpus: 8, gpus: 2, memory_bytes: 32 * GIB });
    const small = run({ cpus: 1, memory_bytes: GIB });
    const d = decideWorkers([big, small], [], policy, NOW);
    expect(d.start.map((s) => s.shape)).toEqual([
      { cpus: 8, gpus: 2, memoryBytes: 32 * GIB },
      { cpus: 1, gpus: 0, memoryBytes: 2 * GIB },
    ]);
  });

  it('leaves runs larger than the cap to others and says why', () => {
    const capped = { ...policy, maxShape: { cpus: 4, gpus: 1, memoryBytes: 8 * GIB } };
    const tooMany = run({ gpus: 2 });
    const d = decideWorkers([tooMany, run({ cpus: 4 })], [], capped, NOW);
    expect(d.unservable).toEqual([{ uuid: tooMany.uuid, reason: 'needs 2 GPUs; workers here have at most 1 (--max-gpus)' }]);
    expect(d.start.map((s) => s.shape.cpus)).toEqual([4]);
  });
});

describe('needsWorker filters', () => {
  it("serves only its --queue's runs, and without one only runs naming no queue", () => {
    expect(needsWorker(run({ queue: 'gpu' }), { ...policy, queue: 'gpu' })).toBe(true);
    expect(needsWorker(run({ queue: null }), { ...policy, queue: 'gpu' })).toBe(false);
    expect(needsWorker(run({ queue: 'gpu' }), policy)).toBe(false);
    expect(needsWorker(run({ queue: null }), policy)).toBe(true);
  });

  it('serves only the runs of its --user owners', () => {
    const bobs = { ...policy, users: ['bob'] };
    expect(needsWorker(run({ owner_name: 'bob' }), bobs)).toBe(true);
    expect(needsWorker(run({ owner_name: 'alice' }), bobs)).toBe(false);
    const d = decideWorkers([run({ owner_name: 'alice' })], [], bobs, NOW);
    expect(d.start).toEqual([]);
  });
});

describe('shapeFor', () => {
  it('names the memory cap in bytes when a run asks more', () => {
    const capped = { ...policy, maxShape: { cpus: null, gpus: null, memoryBytes: 4 * GIB } };
    expect(shapeFor(run({ memory_bytes: 5 * GIB }), capped)).toBe('needs 5g memory; workers here have at most 4g (--max-memory)');
  });
});
