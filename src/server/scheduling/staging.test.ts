import { describe, expect, it } from 'vitest';
import type { BundleState } from '../../protocol/index.js';
import { allowsFailedDependencies, decideStaging, dependenciesWithContents, type ParentFacts } from './staging.js';

function parent(uuid: string, state: BundleState, is_dir: boolean | null = true): ParentFacts {
  return { uuid, name: `p${uuid}`, state, is_dir };
}

const deps = (...uuids: string[]): { child_path: string; parent_uuid: string }[] =>
  uuids.map((u) => ({ child_path: `k${u}`, parent_uuid: u }));

const parents = (...list: ParentFacts[]): Map<string, ParentFacts> => new Map(list.map((p) => [p.uuid, p]));

describe('decideStaging', () => {
  it('stages when every parent is ready, and when there are none', () => {
    expect(decideStaging(deps('1', '2'), parents(parent('1', 'ready'), parent('2', 'ready')), false)).toEqual({ kind: 'stage' });
    expect(decideStaging([], new Map(), false)).toEqual({ kind: 'stage' });
  });

  it('waits while a parent is still in progress', () => {
    expect(decideStaging(deps('1', '2'), parents(parent('1', 'ready'), parent('2', 'running')), true)).toEqual({ kind: 'wait' });
  });

  it('fails on a failed or killed parent without the flag, naming the flag', () => {
    for (const state of ['failed', 'killed'] as const) {
      const decision = decideStaging(deps('1'), parents(parent('1', state)), false);
      expect(decision).toEqual({
        kind: 'fail',
        message: `Parent bundle p1 (1) is ${state}; use --allow-failed-dependencies to run on what it left.`,
      });
    }
  });

  it('stages on failed and killed parents with the flag, once the others are ready', () => {
    const list = parents(parent('1', 'failed'), parent('2', 'killed', null), parent('3', 'ready'));
    expect(decideStaging(deps('1', '2', '3'), list, true)).toEqual({ kind: 'stage' });
  });

  it('fails on a missing parent even with the flag', () => {
    expect(decideStaging(deps('9'), new Map(), true)).toEqual({
      kind: 'fail',
      message: "Parent bundle 9 (dependency 'k9') does not exist.",
    });
  });
});

describe('allowsFailedDependencies', () => {
  it('is true only for a stored true', () => {
    expect(allowsFailedDependencies({ allow_failed_dependencies: true })).toBe(true);
    expect(allowsFailedDependencies({ allow_failed_dependencies: 'true' })).toBe(false);
    expect(allowsFailedDependencies({})).toBe(false);
  });
  it('fails a bundle whose owner may no longer read a parent, naming only its uuid and key', () => {
    const decision = decideStaging(deps('1', '2'), parents(parent('1', 'ready'), parent('2', 'ready')), false, new Set(['1']));
    expect(decision.kind).toBe('fail');
    expect(decision.kind === 'fail' && decision.message).toMatch(/may no longer read parent bundle 2 \(dependency 'k2'\)/);
  });
});

describe('dependenciesWithContents', () => {
  it('leaves out failed or killed parents that left no contents, and keeps the rest', () => {
    const list = parents(parent('1', 'failed', true), parent('2', 'killed', null), parent('3', 'ready'), parent('4', 'failed', null));
    expect(dependenciesWithContents(deps('1', '2', '3', '4', '5'), list).map((d) => d.parent_uuid)).toEqual(['1', '3', '5']);
  });
});
