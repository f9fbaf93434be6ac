// The SQLite store's guarded update of a bundle (sqlite-store.ts delegates here, to stay small).
import type Database from 'better-sqlite3';
import { boolOrNull, marks, type SqlValue } from './sqlite-rows.js';
import type { BundleChange, BundleGuard } from './store.js';

/** Applies `change` when `guard` holds; returns whether a row changed. */
export function updateBundle(db: Database.Database, uuid: string, change: BundleChange, guard: BundleGuard): boolean {
  const sets: string[] = ['last_updated = ?'];
  const values: SqlValue[] = [change.last_updated];
  const set = (column: string, value: SqlValue): void => {
    sets.push(`${column} = ?`);
    values.push(value);
  };
  if (change.state !== undefined) {
    set('state', change.state);
    // The right-hand sides see the row before the update: a change to the same state keeps the time.
    sets.push('state_since = CASE WHEN state = ? THEN state_since ELSE ? END');
    values.push(change.state, change.last_updated);
  }
  if (change.is_dir !== undefined) set('is_dir', boolOrNull(change.is_dir));
  if (change.name !== undefined) set('name', change.name);
  if (change.worker_owner_id !== undefined) set('worker_owner_id', change.worker_owner_id);
  if (change.worker_id !== undefined) set('worker_id', change.worker_id);
  if (change.assignment_id !== undefined) set('assignment_id', change.assignment_id);
  if (change.kill_requested !== undefined) set('kill_requested', change.kill_requested ? 1 : 0);
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
  const where: string[] = ['uuid = ?'];
  const whereValues: SqlValue[] = [uuid];
  if (guard.states) {
    where.push(`state IN (${marks(guard.states)})`);
    whereValues.push(...guard.states);
  }
  if (guard.assignment_id !== undefined) {
    where.push('assignment_id = ?');
    whereValues.push(guard.assignment_id);
  }
  if (guard.worker) {
    where.push('worker_owner_id = ? AND worker_id = ?');
    whereValues.push(guard.worker.owner_id, guard.worker.id);
  }
  const result = db
    .prepare(`UPDATE bundles SET ${sets.join(', ')} WHERE ${where.join(' AND ')}`)
    .run(...values, ...whereValues);
  return result.changes > 0;
}
