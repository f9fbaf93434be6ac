import type { BundleState } from '../../../src/protocol/index.js';

/** The state as text (never colour alone), coloured by how it ended or that it is under way. */
export function StateBadge({ state }: { state: BundleState }) {
  return <span className={`state state-${state}`}>{state}</span>;
}
