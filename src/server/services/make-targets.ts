// Rules for the targets of a make bundle: one target may be unkeyed (the bundle becomes a copy
// of it); several targets must all have keys. Default name as CodaLab: the basename of one
// unkeyed target, else `make-...`.
import { toDefaultName } from '../../common/names.js';
import { ApiError, type Dependency } from '../../protocol/index.js';

export function checkMakeTargets(dependencies: readonly Dependency[]): void {
  if (dependencies.length === 0) throw new ApiError('bad_request', 'A make bundle needs at least one target.');
  const unkeyed = dependencies.filter((d) => d.child_path === '');
  if (unkeyed.length > 0 && dependencies.length > 1) {
    throw new ApiError(
      'bad_request',
      `A make bundle with several targets needs a key for each (KEY:TARGET); ${unkeyed.length} of ${dependencies.length} have none.`,
    );
  }
}

export function defaultMakeName(dependencies: readonly Dependency[]): string {
  const [only] = dependencies;
  if (dependencies.length === 1 && only && only.child_path === '') {
    const base = only.parent_path.split('/').filter(Boolean).pop();
    if (base) return toDefaultName(base);
  }
  return toDefaultName(`make-${dependencies.map((d) => d.child_path || d.parent_uuid.slice(0, 10)).join('-')}`);
}
