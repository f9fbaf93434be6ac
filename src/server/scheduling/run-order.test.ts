import { describe, expect, it } from 'vitest';
import type { StagedRun } from './matcher.js';
import { orderStagedRuns } from './run-order.js';

/** The rule as first written, one comparison at a time: orderStagedRuns must order exactly as this does. */
function orderPlainly(runs: readonly StagedRun[], active: ReadonlyMap<string, number>): StagedRun[] {
  const byOwner = new Map<string, { run: StagedRun; index: number }[]>();
  runs.forEach((run, index) => byOwner.set(run.owner_id, [...(byOwner.get(run.owner_id) ?? []), { run, index }]));
  const placed: { run: StagedRun; index: number; turn: number }[] = [];
  for (const [owner, list] of byOwner) {
    list.sort((a, b) => (b.run.priority ?? 0) - (a.run.priority ?? 0) || a.index - b.index);
    list.forEach((entry, rank) => placed.push({ ...entry, turn: (active.get(owner) ?? 0) + rank }));
  }
  placed.sort((a, b) => a.turn - b.turn || a.index - b.index);
  return placed.map((p) => p.run);
}

function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1103515245 + 12345) % 2147483648;
    return state / 2147483648;
  };
}

describe('orderStagedRuns on seeded loads', () => {
  it('orders as the plain comparison does, with and without priorities and held runs', () => {
    for (let seed = 1; seed <= 40; seed += 1) {
      const random = seeded(seed);
      const owners = Array.from({ length: 1 + Math.floor(random() * 12) }, (_, i) => `u${i}`);
      const withPriorities = random() < 0.7;
      const runs: StagedRun[] = Array.from({ length: Math.floor(random() * 400) }, (_, i) => ({
        uuid: `r${i}`,
        owner_id: owners[Math.floor(random() * owners.length)] as string,
        queue: null,
        dependency_keys: [],
        ...(withPriorities && random() < 0.4 ? { priority: Math.floor(random() * 9) - 4 } : {}),
        resources: { docker_image: 'img:1', cpus: 1, gpus: 0, memory: 1, disk: 0, time: 0, network: true },
      }));
      const active = new Map(owners.filter(() => random() < 0.5).map((o) => [o, Math.floor(random() * 300)]));
      expect(orderStagedRuns(runs, active).map((r) => r.uuid)).toEqual(orderPlainly(runs, active).map((r) => r.uuid));
    }
  });

  it('orders as the plain comparison does when held counts are too large to pack with positions', () => {
    const runs: StagedRun[] = ['a', 'b', 'c', 'd'].map((uuid, i) => ({
      uuid,
      owner_id: i % 2 === 0 ? 'heavy' : 'light',
      queue: null,
      dependency_keys: [],
      resources: { docker_image: 'img:1', cpus: 1, gpus: 0, memory: 1, disk: 0, time: 0, network: true },
    }));
    const active = new Map([['heavy', Number.MAX_SAFE_INTEGER - 10]]);
    expect(orderStagedRuns(runs, active).map((r) => r.uuid)).toEqual(['b', 'd', 'a', 'c']);
    expect(orderStagedRuns(runs, active).map((r) => r.uuid)).toEqual(orderPlainly(runs, active).map((r) => r.uuid));
  });
});
