// Global setup of the fault suite (vitest.faults.config.ts): names a fresh scenario-table file
// for the test files to append to, and prints the table once every file has run, so the CI log
// shows every scenario's lost and stuck counts even when an assertion stopped a test.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAULTS_TABLE_ENV, formatTable, readRows } from './scenario-table.js';

export default function setup(): () => void {
  const dir = mkdtempSync(join(tmpdir(), 'cl-faults-'));
  const file = join(dir, 'scenarios.jsonl');
  // Test workers are started after global setup and inherit this environment.
  process.env[FAULTS_TABLE_ENV] = file;
  return () => {
    const rows = readRows(file);
    console.log(`\nFault scenarios (${rows.length}):\n${rows.length > 0 ? formatTable(rows) : '(none recorded)'}\n`);
    rmSync(dir, { recursive: true, force: true });
  };
}
