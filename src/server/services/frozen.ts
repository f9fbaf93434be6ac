// Frozen bundles (`cl edit --freeze`): nothing about them changes until they are unfrozen.
import { FROZEN_KEY } from '../../protocol/index.js';
import type { BundleRow } from '../store/store.js';

export function isFrozen(row: BundleRow): boolean {
  const frozen = row.metadata[FROZEN_KEY];
  return frozen !== undefined && frozen !== null && frozen !== false;
}

export function unfreezeHint(row: BundleRow): string {
  return `unfreeze it first with 'cl edit ${row.uuid} --unfreeze'`;
}
