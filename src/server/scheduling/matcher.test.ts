import { describe, expect, it } from 'vitest';
import { matchRuns, rejectionReason, type StagedRun, type WorkerSnapshot } from './matcher.js';

const GB = 1024 ** 3;

function run(overrides: Partial<StagedRun> = {}, resources: Partial<StagedRun['resources']> = {}): StagedRun {
  return {
    uuid: overrides.uuid ?? '0xrun',
    owner_id: 'u1',
    queue: null,
    dependency_keys: [],
    ...overrides,
    resources: { docker_image: 'img:1', cpus: 1, gpus: 0, memory: 2 * GB, disk: 0, time: 0, network: true, ...resources },
  };
}

function worker(overrides: Partial<WorkerSnapshot> = {}): WorkerSnapshot {
  return {
    key: 'w1',
    owner_id: '0',
    owner_is_root: true,
    tag: null,
    tag_exclusive: false,
    free_cpus: 2,
    free_gpus: 0,
    free_memory: 8 * GB,
    free_disk: 100 * GB,
    free_slots: 1,
    runs_left: null,
    docker_ok: true,
    cached_dependencies: new Set(),
    ...overrides,
  };
}

describe('rejectionReason', () => {
  it('accepts a run that fits', () => {
    expect(rejectionReason(run(), worker())).toBeNull();
  });

  it.each([
    [run({ queue: 'gpu-a100' }), worker(), 'no worker serves queue gpu-a100'],
    [run(), worker({ tag: 't', tag_exclusive: true }), 'worker only takes runs for its tag'],
    [run(), worker({ free_slots: 0 }), 'worker has no free slot'],
    [run({}, { cpus: 4 }), worker(), 'needs 4 CPUs; worker has 2 free'],
    [run({}, { gpus: 2 }), worker({ free_gpus: 1 }), 'needs 2 GPUs; worker has 1 free'],
    [run({}, { memory: 64 * GB }), worker({ free_memory: 31 * GB }), 'needs 64g memory; worker has 31g free'],
    [run(), worker({ docker_ok: false }), 'worker cannot reach Docker'],
    [run(), worker({ owner_is_root: false, owner_id: 'u2' }), 'worker belongs to another user'],
  ])('explains each rejection (%#)', (r, w, reason) => {
    expect(rejectionReason(r, w)).toBe(reason);
  });

  it('lets a tagged worker take runs for its queue', () => {
    expect(rejectionReason(run({ queue: 't' }), worker({ tag: 't', tag_exclusive: true }))).toBeNull();
  });
});

describe('matchRuns', () => {
  it('fills a worker up to its slots and explains who waits', () => {
    const result = matchRuns([run({ uuid: 'a' }), run({ uuid: 'b' })], [worker()]);
    expect(result.assignments).toEqual([{ uuid: 'a', worker_key: 'w1' }]);
    expect(result.waiting.get('b')).toBe('No worker can take this run: worker has no free slot.');
  });

  it('prefers the worker that caches the dependencies', () => {
    const cold = worker({ key: 'cold' });
    const warm = worker({ key: 'warm', cached_dependencies: new Set(['0xp:']) });
    const result = matchRuns([run({ dependency_keys: ['0xp:'] })], [cold, warm]);
    expect(result.assignments[0]?.worker_key).toBe('warm');
  });

  it('says when no worker is connected', () => {
    expect(matchRuns([run()], []).waiting.get('0xrun')).toBe('No worker is connected.');
  });
});
