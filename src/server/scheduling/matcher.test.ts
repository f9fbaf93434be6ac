import { describe, expect, it } from 'vitest';
import { explainWaiting, matchRuns, rejectionReason, type StagedRun, type WorkerSnapshot } from './matcher.js';
import { orderStagedRuns } from './run-order.js';

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

describe('explainWaiting', () => {
  const prefix = 'No worker can take this run: ';
  it.each([
    ['no worker at all', run(), [], 'No worker is connected.'],
    ['only other users\' workers', run(), [worker({ owner_is_root: false, owner_id: 'u2' })], 'No worker is available to you (the only worker belongs to another user).'],
    ['an unserved queue', run({ queue: 'gpu-a100' }), [worker(), worker({ tag: 'cpu' })], `${prefix}no worker serves queue gpu-a100.`],
    ['only exclusive workers', run(), [worker({ tag: 't', tag_exclusive: true })], `${prefix}every worker only takes runs for its own queue (use --request-queue).`],
    ['Docker down everywhere', run(), [worker({ docker_ok: false }), worker({ docker_ok: false })], `${prefix}2 workers cannot reach Docker.`],
    ['runs used up', run(), [worker({ runs_left: 0 })], `${prefix}every worker has reached its --exit-after-num-runs.`],
    ['more GPUs than any worker', run({}, { gpus: 2 }), [worker({ total_gpus: 1, free_gpus: 1 })], `${prefix}needs 2 GPUs; largest worker has 1.`],
    ['more memory than any worker', run({}, { memory: 64 * GB }), [worker({ total_memory: 31 * GB, free_memory: 31 * GB }), worker({ total_memory: 16 * GB })], `${prefix}needs 64g memory; largest worker has 31g.`],
    ['more CPUs than any worker', run({}, { cpus: 8 }), [worker({ total_cpus: 4 })], `${prefix}needs 8 CPUs; largest worker has 4.`],
    ['every slot taken', run(), [worker({ free_slots: 0 }), worker({ free_slots: 0 })], `${prefix}all 2 workers are busy (every slot is taken).`],
    ['GPUs in use', run({}, { gpus: 2 }), [worker({ total_gpus: 4, free_gpus: 1 })], `${prefix}needs 2 GPUs; best worker has 1 free.`],
    ['CPUs in use', run({}, { cpus: 2 }), [worker({ total_cpus: 4, free_cpus: 1 })], `${prefix}needs 2 CPUs; best worker has 1 free.`],
    ['memory in use', run({}, { memory: 4 * GB }), [worker({ total_memory: 8 * GB, free_memory: 3 * GB })], `${prefix}needs 4g memory; best worker has 3g free.`],
    ['too little disk', run({}, { disk: 5 * GB }), [worker({ free_disk: 3 * GB })], `${prefix}needs 5g disk; best worker has 3g free.`],
    ['full disks', run(), [worker({ free_disk: 0 })], `${prefix}every worker's disk is full (no space beyond its reserve).`],
    ['several shortfalls', run({}, { gpus: 1, memory: 64 * GB }), [worker({ total_memory: 31 * GB })], `${prefix}needs 1 GPU; largest worker has 0; needs 64g memory; largest worker has 31g.`],
    ['resources split over workers', run({}, { cpus: 2, memory: 4 * GB }), [worker({ free_cpus: 2, free_memory: 1 * GB, total_memory: 8 * GB }), worker({ free_cpus: 1, free_memory: 8 * GB })], `${prefix}no single worker has 2 CPUs, 4g memory free at once.`],
  ])('%s', (_what, r, ws, expected) => {
    expect(explainWaiting(r, ws)).toBe(expected);
  });

  it('names a worker whose GPUs vanished', () => {
    const lost = worker({ key: 'k', name: 'gpu-box', total_gpus: 0, free_gpus: 0, gpus_lost: true });
    expect(explainWaiting(run({}, { gpus: 1 }), [lost])).toBe(
      `${prefix}needs 1 GPU; largest worker has 0 (worker gpu-box reported GPUs before and now reports none).`,
    );
  });
});

describe('matchRuns', () => {
  it('fills a worker up to its slots and explains who waits', () => {
    const result = matchRuns([run({ uuid: 'a' }), run({ uuid: 'b' })], [worker()]);
    expect(result.assignments).toEqual([{ uuid: 'a', worker_key: 'w1' }]);
    expect(result.waiting.get('b')).toBe('No worker can take this run: the only worker is busy (every slot is taken).');
  });

  it('deducts what each placed run takes', () => {
    const w = worker({ free_slots: 4, free_cpus: 3, total_cpus: 3 });
    const result = matchRuns([run({ uuid: 'a' }, { cpus: 2 }), run({ uuid: 'b' }, { cpus: 2 }), run({ uuid: 'c' })], [w]);
    expect(result.assignments.map((a) => a.uuid)).toEqual(['a', 'c']);
    expect(result.waiting.get('b')).toBe('No worker can take this run: needs 2 CPUs; best worker has 1 free.');
  });

  it('prefers the worker that caches the dependencies', () => {
    const cold = worker({ key: 'cold' });
    const warm = worker({ key: 'warm', cached_dependencies: new Set(['0xp:']) });
    const result = matchRuns([run({ dependency_keys: ['0xp:'] })], [cold, warm]);
    expect(result.assignments[0]?.worker_key).toBe('warm');
  });

  it('ranks tag-exclusive, then own, then GPU-less workers, then best fit', () => {
    const place = (r: StagedRun, ws: WorkerSnapshot[]): string | undefined => matchRuns([r], ws).assignments[0]?.worker_key;
    const shared = worker({ key: 'shared' });
    const exclusive = worker({ key: 'exclusive', tag: 'q', tag_exclusive: true });
    expect(place(run({ queue: 'q' }), [worker({ key: 'tagged', tag: 'q' }), exclusive])).toBe('exclusive');
    const own = worker({ key: 'own', owner_id: 'u1', owner_is_root: false });
    expect(place(run(), [shared, own])).toBe('own');
    const gpuBox = worker({ key: 'gpu', free_gpus: 2, total_gpus: 2 });
    expect(place(run(), [gpuBox, shared])).toBe('shared');
    expect(place(run({}, { gpus: 1 }), [shared, gpuBox])).toBe('gpu');
    const big = worker({ key: 'big', free_cpus: 16 });
    expect(place(run(), [big, shared])).toBe('shared');
  });

  it("gives a --group worker its group members' runs, after their own workers and before shared ones, and no one else's", () => {
    const place = (r: StagedRun, ws: WorkerSnapshot[]): string | undefined => matchRuns([r], ws).assignments[0]?.worker_key;
    const shared = worker({ key: 'shared' });
    const labBox = worker({ key: 'lab', owner_id: 'u2', owner_is_root: false, group_member_ids: new Set(['u1', 'u2']) });
    expect(place(run(), [shared, labBox])).toBe('lab');
    expect(place(run(), [labBox, worker({ key: 'own', owner_id: 'u1', owner_is_root: false }), shared])).toBe('own');
    expect(place(run({ owner_id: 'u3' }), [labBox])).toBeUndefined();
    expect(rejectionReason(run({ owner_id: 'u3' }), labBox)).toBe('worker belongs to another user');
    // A member at their parallel-run quota on shared workers still gets the group's worker.
    const quotas = new Map([['u1', { running: 3, quota: 3 }]]);
    expect(matchRuns([run()], [shared, labBox], quotas).assignments).toEqual([{ uuid: '0xrun', worker_key: 'lab' }]);
    // Two members' runs share the group worker's one slot: one placed, the other waits.
    const both = matchRuns([run({ uuid: 'a' }), run({ uuid: 'b', owner_id: 'u2' })], [labBox]);
    expect(both.assignments).toHaveLength(1);
    expect(both.waiting.size).toBe(1);
  });

  it('never sends a GPU run to a worker that lost its GPUs', () => {
    const lost = worker({ key: 'lost', free_gpus: 0, total_gpus: 0, gpus_lost: true });
    const result = matchRuns([run({}, { gpus: 1 })], [lost]);
    expect(result.assignments).toEqual([]);
    expect(result.waiting.get('0xrun')).toMatch(/needs 1 GPU; largest worker has 0 \(worker lost reported GPUs before/);
  });

  it('says when no worker is connected', () => {
    expect(matchRuns([run()], []).waiting.get('0xrun')).toBe('No worker is connected.');
  });
});

describe('orderStagedRuns', () => {
  const ids = (runs: StagedRun[]): string[] => runs.map((r) => r.uuid);

  it('puts higher priority first within a user, creation order among equals', () => {
    const runs = [run({ uuid: 'a' }), run({ uuid: 'b', priority: 5 }), run({ uuid: 'c', priority: -1 }), run({ uuid: 'd', priority: 5 })];
    expect(ids(orderStagedRuns(runs, new Map()))).toEqual(['b', 'd', 'a', 'c']);
  });

  it('shares fairly across users: a later user is not starved by thousands of earlier runs', () => {
    const flood = Array.from({ length: 1000 }, (_, i) => run({ uuid: `x${i}`, owner_id: 'heavy' }));
    const ordered = ids(orderStagedRuns([...flood, run({ uuid: 'late', owner_id: 'light' })], new Map()));
    expect(ordered.indexOf('late')).toBeLessThanOrEqual(1);
  });

  it('counts runs a user already holds on workers', () => {
    const runs = [run({ uuid: 'h1', owner_id: 'heavy' }), run({ uuid: 'h2', owner_id: 'heavy' }), run({ uuid: 'l1', owner_id: 'light' })];
    expect(ids(orderStagedRuns(runs, new Map([['heavy', 3]])))).toEqual(['l1', 'h1', 'h2']);
  });

  it('lets the matcher place the fair order', () => {
    const runs = orderStagedRuns(
      [run({ uuid: 'h1', owner_id: 'heavy' }), run({ uuid: 'h2', owner_id: 'heavy' }), run({ uuid: 'l1', owner_id: 'light' })],
      new Map(),
    );
    const result = matchRuns(runs, [worker({ free_slots: 2, free_cpus: 2 })]);
    expect(result.assignments.map((a) => a.uuid)).toEqual(['h1', 'l1']);
  });
});

describe('matchRuns with parallel-run quotas', () => {
  const shared = (key: string): WorkerSnapshot => worker({ key, free_slots: 4, free_cpus: 8 });

  it('keeps an owner at their quota waiting, with the reason and the numbers', () => {
    const result = matchRuns([run({ uuid: 'a' })], [shared('w1')], new Map([['u1', { running: 3, quota: 3 }]]));
    expect(result.assignments).toEqual([]);
    expect(result.waiting.get('a')).toBe('Waiting: owner has 3 runs on shared workers, the parallel-run quota.');
  });

  it('places runs up to the quota in one pass and holds the rest', () => {
    const runs = ['a', 'b', 'c'].map((uuid) => run({ uuid }));
    const result = matchRuns(runs, [shared('w1')], new Map([['u1', { running: 0, quota: 2 }]]));
    expect(result.assignments.map((a) => a.uuid)).toEqual(['a', 'b']);
    expect(result.waiting.get('c')).toBe('Waiting: owner has 2 runs on shared workers, the parallel-run quota.');
  });

  it("does not limit runs on the owner's own workers, nor other owners", () => {
    const own = worker({ key: 'mine', owner_id: 'u1', owner_is_root: false });
    const quotas = new Map([['u1', { running: 5, quota: 5 }]]);
    const result = matchRuns([run({ uuid: 'a' }), run({ uuid: 'b', owner_id: 'u2' })], [shared('w1'), own], quotas);
    expect(result.assignments).toEqual([{ uuid: 'a', worker_key: 'mine' }, { uuid: 'b', worker_key: 'w1' }]);
  });
});

describe('matchRuns prefers cached bytes', () => {
  it('sends a run to the worker holding its 1 GiB dependency over one holding its two 1 KiB ones', () => {
    const sizes = new Map([['0xbig:', GB], ['0xa:', 1024], ['0xb:', 1024]]);
    const r = run({ dependency_keys: ['0xbig:', '0xa:', '0xb:'], dependency_sizes: sizes });
    const small = worker({ key: 'small', cached_dependencies: new Set(['0xa:', '0xb:']) });
    const big = worker({ key: 'big', cached_dependencies: new Set(['0xbig:']) });
    expect(matchRuns([r], [small, big]).assignments[0]?.worker_key).toBe('big');
    expect(matchRuns([r], [big, small]).assignments[0]?.worker_key).toBe('big');
  });

  it('counts a dependency of unknown size as held, so more such dependencies still win', () => {
    const r = run({ dependency_keys: ['0xa:x', '0xb:y'] });
    const one = worker({ key: 'one', cached_dependencies: new Set(['0xa:x']) });
    const two = worker({ key: 'two', cached_dependencies: new Set(['0xa:x', '0xb:y']) });
    expect(matchRuns([r], [one, two]).assignments[0]?.worker_key).toBe('two');
  });

  it('ranks before warmth: a warm shared worker loses to a cold one of the owner', () => {
    const r = run({ dependency_keys: ['0xp:'], dependency_sizes: new Map([['0xp:', GB]]) });
    const warmShared = worker({ key: 'warm', cached_dependencies: new Set(['0xp:']) });
    const own = worker({ key: 'own', owner_id: 'u1', owner_is_root: false });
    expect(matchRuns([r], [warmShared, own]).assignments[0]?.worker_key).toBe('own');
  });
});

describe('matchRuns on a large seeded load', () => {
  /** The plain rule, one worker at a time: the indexed search in matchRuns must place exactly as this does. */
  function placeOneByOne(runs: StagedRun[], workers: WorkerSnapshot[]): { uuid: string; worker_key: string }[] {
    const ws = workers.map((w) => ({ ...w }));
    const out: { uuid: string; worker_key: string }[] = [];
    const key = (r: StagedRun, w: WorkerSnapshot, i: number): number[] => {
      let bytes = 0;
      for (const k of r.dependency_keys) if (w.cached_dependencies.has(k)) bytes += 1 + (r.dependency_sizes?.get(k) ?? 0);
      const noGpus = (w.total_gpus ?? w.free_gpus) === 0;
      return [w.tag_exclusive ? 1 : 0, w.owner_is_root ? 0 : 1, w.owner_id === r.owner_id ? 1 : 0, r.resources.gpus === 0 && noGpus ? 1 : 0, bytes, -w.free_cpus, -w.free_memory, -i];
    };
    const better = (a: number[], b: number[]): boolean => {
      for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return (a[i] ?? 0) > (b[i] ?? 0);
      return false;
    };
    for (const r of runs) {
      let best: { i: number; key: number[] } | null = null;
      ws.forEach((w, i) => {
        if (rejectionReason(r, w) !== null) return;
        const k = key(r, w, i);
        if (best === null || better(k, best.key)) best = { i, key: k };
      });
      if (best === null) continue;
      const w = ws[(best as { i: number }).i] as WorkerSnapshot;
      takeRoom(w, r);
      out.push({ uuid: r.uuid, worker_key: w.key });
    }
    return out;
  }

  it('places as a one-by-one scan of every worker would', () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)] as T;
    const parents = Array.from({ length: 30 }, (_, i) => `0x${i}:`);
    const sizes = new Map(parents.map((p) => [p, Math.floor(random() * 4) * GB]));
    const workers = Array.from({ length: 120 }, (_, i) => {
      const own = random() < 0.2;
      const tagged = random() < 0.2;
      const gpus = random() < 0.3 ? pick([1, 2]) : 0;
      return worker({
        key: `w${i}`,
        owner_id: own ? pick(['u1', 'u2', 'u3']) : '0',
        owner_is_root: !own,
        ...(random() < 0.1 ? { group_member_ids: new Set(['u1', 'u4']) } : {}),
        tag: tagged ? pick(['a', 'b']) : null,
        tag_exclusive: tagged && random() < 0.5,
        free_cpus: pick([1, 2, 4, 8]),
        free_gpus: gpus,
        ...(random() < 0.5 ? { total_gpus: gpus } : {}),
        free_memory: pick([2, 4, 8, 16]) * GB,
        free_disk: pick([0, 10, 100]) * GB,
        free_slots: pick([1, 2, 3]),
        runs_left: random() < 0.2 ? pick([1, 2]) : null,
        docker_ok: random() > 0.05,
        cached_dependencies: new Set(Array.from({ length: 4 }, () => pick(parents))),
      });
    });
    const runs = Array.from({ length: 600 }, (_, i) =>
      run(
        {
          uuid: `r${i}`,
          owner_id: pick(['u1', 'u2', 'u3', 'u4', 'u5']),
          queue: random() < 0.15 ? pick(['a', 'b']) : null,
          dependency_keys: Array.from({ length: Math.floor(random() * 3) }, () => pick(parents)),
          dependency_sizes: sizes,
        },
        { cpus: pick([1, 1, 2, 4]), gpus: random() < 0.15 ? 1 : 0, memory: pick([1, 2, 4, 8]) * GB, disk: random() < 0.3 ? pick([1, 20]) * GB : 0 },
      ),
    );
    const expected = placeOneByOne(runs, workers);
    expect(expected.length).toBeGreaterThan(50);
    expect(matchRuns(runs, workers).assignments).toEqual(expected);
  });
});

describe('matchRuns explains waiting runs as the plain rule does', () => {
  /**
   * The plain rule for reasons: the first run of each kind (same owner where they have private
   * workers, queue and request) that finds no worker is explained over every worker as the pass
   * has left them; the rest of its kind wait for the same reason.
   */
  function reasonsOneByOne(runs: StagedRun[], workers: WorkerSnapshot[], assignments: { uuid: string; worker_key: string }[]): Map<string, string> {
    const ws = workers.map((w) => ({ ...w }));
    const placedOn = new Map(assignments.map((a) => [a.uuid, ws.find((w) => w.key === a.worker_key) as WorkerSnapshot]));
    const privateUsers = new Set(ws.filter((w) => !w.owner_is_root).flatMap((w) => [w.owner_id, ...(w.group_member_ids ?? [])]));
    const byKind = new Map<string, string>();
    const out = new Map<string, string>();
    for (const r of runs) {
      const w = placedOn.get(r.uuid);
      if (w !== undefined) {
        takeRoom(w, r);
        continue;
      }
      const { cpus, gpus, memory, disk } = r.resources;
      const kind = JSON.stringify([privateUsers.has(r.owner_id) ? r.owner_id : null, r.queue, cpus, gpus, memory, disk]);
      if (!byKind.has(kind)) byKind.set(kind, explainWaiting(r, ws));
      out.set(r.uuid, byKind.get(kind) as string);
    }
    return out;
  }

  it('no longer counts the free disk of a worker whose last slot was just taken', () => {
    const tight = worker({ key: 'tight', free_cpus: 1, total_cpus: 1, total_gpus: 0, total_memory: 4 * GB, free_memory: 4 * GB, free_disk: 1000 * GB });
    const roomy = worker({
      key: 'roomy', free_cpus: 4, total_cpus: 4, free_gpus: 1, total_gpus: 1, free_memory: 8 * GB, total_memory: 8 * GB, free_disk: 10 * GB, free_slots: 3,
    });
    const runs = [run({ uuid: 'huge' }, { cpus: 8 }), run({ uuid: 'small' }), run({ uuid: 'disk' }, { disk: 20 * GB })];
    const result = matchRuns(runs, [tight, roomy]);
    expect(result.assignments).toEqual([{ uuid: 'small', worker_key: 'tight' }]);
    expect(result.waiting.get('disk')).toBe('No worker can take this run: needs 20g disk; best worker has 10g free.');
  });

  it('gives every waiting run the plain rule’s reason on seeded loads', () => {
    for (let seed = 1; seed <= 30; seed += 1) {
      let state = seed;
      const random = (): number => {
        state = (state * 1103515245 + 12345) % 2147483648;
        return state / 2147483648;
      };
      const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)] as T;
      const workers = Array.from({ length: 80 }, (_, i) => {
        const own = random() < 0.2;
        const tagged = random() < 0.2;
        const cpus = pick([2, 4, 8]);
        const gpus = random() < 0.3 ? pick([1, 2]) : 0;
        const memory = pick([4, 8, 16]) * GB;
        return worker({
          key: `w${i}`,
          owner_id: own ? pick(['u1', 'u2']) : '0',
          owner_is_root: !own,
          ...(own && random() < 0.3 ? { group_member_ids: new Set(['u3']) } : {}),
          tag: tagged ? pick(['a', 'b']) : null,
          tag_exclusive: tagged && random() < 0.5,
          ...(random() < 0.8 ? { total_cpus: cpus, total_gpus: gpus, total_memory: memory } : {}),
          free_cpus: Math.ceil(cpus * random()),
          free_gpus: random() < 0.8 ? gpus : 0,
          free_memory: Math.ceil(memory * random()),
          free_disk: pick([0, 10, 100, 1000]) * GB,
          free_slots: pick([0, 1, 2, 4]),
          runs_left: random() < 0.1 ? pick([0, 1, 3]) : null,
          docker_ok: random() > 0.05,
          gpus_lost: random() < 0.05,
        });
      });
      const runs = Array.from({ length: 500 }, (_, i) =>
        run(
          { uuid: `r${i}`, owner_id: pick(['u1', 'u2', 'u3', 'u4']), queue: random() < 0.15 ? pick(['a', 'b']) : null },
          { cpus: pick([1, 1, 2, 4, 16]), gpus: random() < 0.15 ? pick([1, 4]) : 0, memory: pick([1, 2, 4, 32]) * GB, disk: random() < 0.3 ? pick([1, 20, 500]) * GB : 0 },
        ),
      );
      const result = matchRuns(runs, workers);
      expect(result.waiting.size + result.assignments.length).toBe(runs.length);
      expect(result.waiting).toEqual(reasonsOneByOne(runs, workers, result.assignments));
    }
  });
});

/** What placing `run` on `worker` uses up, as the matcher counts it (for the reference models above). */
function takeRoom(worker: WorkerSnapshot, run: { resources: { cpus: number; gpus: number; memory: number; disk: number } }): void {
  worker.free_cpus -= run.resources.cpus;
  worker.free_gpus -= run.resources.gpus;
  worker.free_memory -= run.resources.memory;
  if (run.resources.disk > 0) worker.free_disk -= run.resources.disk;
  worker.free_slots -= 1;
  if (worker.runs_left !== null) worker.runs_left -= 1;
}
