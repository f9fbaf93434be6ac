// The SQLite store's guarded update of a bundle (sqlite-store.ts delegates here, to stay small).
import type Database from 'better-sqlite3';
import { bundleUpdateParts, marks } from './sqlite-rows.js';
import type { BundleChange, BundleGuard } from './store.js';

/** Applies `change` when `guard` holds; returns whether a row changed. */
export function updateBundle(db: Database.Database, uuid: string, change: BundleChange, guard: BundleGuard): boolean {
  const { sets, values, where, whereValues } = bundleUpdateParts(uuid, change, guard, (states) => ({ sql: `state IN (${marks(states)})`, values: [...states] }));
  if (change.metadata !== undefined) {
    // json_patch drops keys whose patch value is null, so nulls are set afterwards. One
    // expression: SQLite ignores all but the last assignment to a column.
    let expression = 'json_patch(metadata, ?)';
    values.push(JSON.stringify(change.metadata));
    for (const [key, value] of Object.entries(change.metadata)) {
      if (value !== null) continue;
      expression = `json_set(${expression}, ?, json('null'))`;
      values.push(`$."${key.replace(/"/g, '')}"`);
    }
    sets.push(`metadata = ${expression}`);
  }
  const result = db.prepare(`UPDATE bundles SET ${sets.join(', ')} WHERE ${where.join(' AND ')}`).run(...values, ...whereValues);
  return result.changes > 0;
}
