// Resolving several specs at once for commands that take many bundles (info, rm, kill, detach):
// ranges are expanded first, then each spec is resolved as resolve.ts does.
import { expandSpecRanges } from '../common/spec-ranges.js';
import { resolveTargetText, type ResolvedTarget } from './resolve.js';
import type { Session } from './session.js';

export async function resolveManyTargets(session: Session, specs: readonly string[], worksheetSpec?: string): Promise<ResolvedTarget[]> {
  const out: ResolvedTarget[] = [];
  for (const spec of expandSpecRanges(specs)) out.push(await resolveTargetText(session, spec, worksheetSpec));
  return out;
}
