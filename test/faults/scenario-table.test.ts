// The scenario table's arithmetic, on made-up bundles: no server, no Docker.
import { describe, expect, it } from 'vitest';
import type { Bundle, BundleState } from '../../src/protocol/index.js';
import { computeRow, formatTable } from './scenario-table.js';

function bundle(state: BundleState, metadata: Record<string, string> = {}): Bundle {
  return { uuid: '0x' + '1'.repeat(32), bundle_type: 'run', command: 'true', state, owner_id: '0', owner_name: 'codalab', is_dir: true, created: 0, metadata, dependencies: [] };
}

describe('the scenario table', () => {
  it('counts lost (unexpected or vanished) and stuck (not final) bundles, with their distinct messages', () => {
    const row = computeRow('example', [
      { uuid: 'a', expected: ['ready'], bundle: bundle('ready') },
      { uuid: 'b', expected: ['ready'], bundle: bundle('failed', { failure_message: 'Worker  lost\nthe run' }) },
      { uuid: 'c', expected: ['ready'], bundle: bundle('failed', { failure_message: 'Worker lost the run' }) },
      { uuid: 'd', expected: ['ready'], bundle: bundle('worker_offline', { run_status: 'Worker w stopped checking in' }) },
      { uuid: 'e', expected: ['ready'], bundle: null },
      { uuid: 'f', expected: ['failed'], bundle: bundle('uploading') },
      { uuid: 'g', expected: ['ready', 'failed'], bundle: bundle('failed', { failure_message: 'x'.repeat(200) }) },
    ]);
    expect(row).toMatchObject({ scenario: 'example', runs: 7, lost: 5, stuck: 2 });
    expect(row.messages.slice(0, 4)).toEqual(['Worker lost the run', 'Worker w stopped checking in', '(vanished)', '(uploading, no message)']);
    expect(row.messages[4]).toMatch(/^x{69}…$/);
  });

  it('prints aligned columns, one line per row', () => {
    const text = formatTable([
      { scenario: 'short', runs: 1, lost: 0, stuck: 0, messages: [] },
      { scenario: 'a longer name', runs: 200, lost: 3, stuck: 1, messages: ['one', 'two'] },
    ]);
    expect(text.split('\n')).toEqual([
      'scenario       runs  lost  stuck  messages',
      'short          1     0     0      -',
      'a longer name  200   3     1      one | two',
    ]);
  });
});
