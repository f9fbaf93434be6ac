// When a created run or make may start, as a pure function of its parents, and which parents it
// then gets. CodaLab's rule: every parent `ready`, or with allow_failed_dependencies also `failed`
// or `killed`; a missing parent, or a failed one without the flag, fails the bundle. The bundle
// manager and the places that hand dependencies out do the I/O around these.
import type { BundleState, Metadata } from '../../protocol/index.js';

/** What staging needs to know of one parent bundle. */
export interface ParentFacts {
  uuid: string;
  name: string;
  state: BundleState;
  /** Whether the store holds its contents (a failed run may have uploaded some; a killed staged one has none). */
  is_dir: boolean | null;
}

export interface DependencyLink {
  child_path: string;
  parent_uuid: string;
}

export type StagingDecision = { kind: 'stage' } | { kind: 'wait' } | { kind: 'fail'; message: string };

const FAILED_PARENT: readonly BundleState[] = ['failed', 'killed'];

/** The flag as CodaLab stores it; anything but `true` means no. */
export function allowsFailedDependencies(metadata: Metadata): boolean {
  return metadata.allow_failed_dependencies === true;
}

/**
 * Fail on the first missing, unreadable or (without the flag) failed parent, else wait for any
 * parent still in progress. `readable`: the parents the bundle's owner may read now (permissions
 * can change between creation and staging); null when the owner may read every bundle.
 */
export function decideStaging(
  dependencies: readonly DependencyLink[],
  parents: ReadonlyMap<string, ParentFacts>,
  allowFailed: boolean,
  readable: ReadonlySet<string> | null = null,
): StagingDecision {
  let waiting = false;
  for (const dep of dependencies) {
    const parent = parents.get(dep.parent_uuid);
    if (!parent) return { kind: 'fail', message: `Parent bundle ${dep.parent_uuid} (dependency '${dep.child_path}') does not exist.` };
    if (readable && !readable.has(parent.uuid)) {
      return {
        kind: 'fail',
        message: `The owner of this bundle may no longer read parent bundle ${parent.uuid} (dependency '${dep.child_path}'); ask its owner to share it (cl perm).`,
      };
    }
    if (FAILED_PARENT.includes(parent.state)) {
      if (allowFailed) continue;
      return {
        kind: 'fail',
        message: `Parent bundle ${parent.name} (${parent.uuid}) is ${parent.state}; use --allow-failed-dependencies to run on what it left.`,
      };
    }
    if (parent.state !== 'ready') waiting = true;
  }
  return waiting ? { kind: 'wait' } : { kind: 'stage' };
}

/**
 * The dependencies a started run mounts, or a make copies: a failed or killed parent that left no
 * contents is left out (its key is simply absent), since there is nothing of it to give.
 */
export function dependenciesWithContents<T extends DependencyLink>(
  dependencies: readonly T[],
  parents: ReadonlyMap<string, Pick<ParentFacts, 'state' | 'is_dir'>>,
): T[] {
  return dependencies.filter((dep) => {
    const parent = parents.get(dep.parent_uuid);
    return !(parent && FAILED_PARENT.includes(parent.state) && parent.is_dir === null);
  });
}
