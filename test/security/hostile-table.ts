// The hostile-input suite's table: each case is a row (family, attack, expected) and a small
// function that makes the attack and checks its specific refusal. The runner wraps every case in
// a before/after snapshot and fails it on any change the case did not declare, and records the
// result for the table printed at the end. Later rows (permissions, worker credentials) are
// added to a family file without touching this one.
import { expect } from 'vitest';
import { diffSnapshots, takeSnapshot, type SnapshotTarget } from './hostile-snapshot.js';

/** What an attempt saw, and the changes it legitimately made (none, for most). */
export interface Outcome {
  /** A short account of the refusal, e.g. `403 forbidden` or `cl exit 1: …`. */
  result: string;
  /**
   * Changes the attack is expected to make, each as a pattern of a whole diff line: e.g. the
   * failed state of the empty dataset an upload was refused into, or the links a run stored.
   */
  allowed?: RegExp[];
}

export interface HostileCase<Context> {
  family: string;
  attack: string;
  expected: string;
  /** Work done before the "before" snapshot (an empty dataset to upload into); handed to `attempt`. */
  prepare?: (ctx: Context) => Promise<string>;
  /** Makes the attack and asserts its specific refusal (throws otherwise). */
  attempt: (ctx: Context, prepared: string) => Promise<Outcome>;
}

export interface TableRow {
  family: string;
  attack: string;
  expected: string;
  result: string;
}

/** Runs one case between two snapshots; records its row whether it passes or not. */
export async function runCase<Context>(
  ctx: Context,
  target: (ctx: Context) => SnapshotTarget,
  c: HostileCase<Context>,
  rows: TableRow[],
): Promise<void> {
  const row: TableRow = { family: c.family, attack: c.attack, expected: c.expected, result: 'FAILED' };
  rows.push(row);
  try {
    const prepared = c.prepare ? await c.prepare(ctx) : '';
    const before = await takeSnapshot(target(ctx));
    const outcome = await c.attempt(ctx, prepared);
    row.result = outcome.result;
    const changes = diffSnapshots(before, await takeSnapshot(target(ctx)));
    const undeclared = changes.filter((line) => !(outcome.allowed ?? []).some((pattern) => pattern.test(line)));
    if (undeclared.length > 0) row.result = `${outcome.result}; CHANGED ${undeclared.length}`;
    expect(undeclared, 'changes the attack made').toEqual([]);
  } catch (error) {
    if (row.result === 'FAILED') row.result = `FAILED: ${String(error instanceof Error ? error.message : error).split('\n')[0]?.slice(0, 80)}`;
    throw error;
  }
}

/** The table as aligned text: one header line, one line per case, truncated to keep it readable. */
export function formatTable(rows: TableRow[]): string {
  const columns: (keyof TableRow)[] = ['family', 'attack', 'expected', 'result'];
  const limits: Record<keyof TableRow, number> = { family: 12, attack: 70, expected: 38, result: 110 };
  const cell = (row: TableRow, column: keyof TableRow): string => {
    const text = row[column].replace(/\s+/g, ' ');
    return text.length > limits[column] ? `${text.slice(0, limits[column] - 1)}…` : text;
  };
  const header: TableRow = { family: 'family', attack: 'attack', expected: 'expected', result: 'result' };
  const all = [header, ...rows];
  const widths = columns.map((column) => Math.max(...all.map((row) => cell(row, column).length)));
  const line = (row: TableRow): string => columns.map((column, i) => cell(row, column).padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  const rule = widths.map((w) => '-'.repeat(w)).join('  ');
  return [line(header), rule, ...rows.map(line), rule, `${rows.length} cases, ${rows.filter((r) => r.result.startsWith('FAILED') || r.result.includes('CHANGED')).length} failed`].join('\n');
}
