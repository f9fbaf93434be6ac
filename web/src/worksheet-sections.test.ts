import { describe, expect, it } from 'vitest';
import type { Bundle, WorksheetItem } from '../../src/protocol/index.js';
import { readableBundles, worksheetSections } from './worksheet-sections.js';

const uuid = (n: number) => `0x${String(n).padStart(32, '0')}`;
function bundle(n: number): Bundle {
  return { uuid: uuid(n), bundle_type: 'dataset', command: null, state: 'ready', owner_id: '1', owner_name: 'u', is_dir: false, created: 0, metadata: { name: `b${n}` }, dependencies: [] };
}

describe('worksheet sections', () => {
  it('keeps text and bundles in order, numbering ^N over all bundles', () => {
    const items: WorksheetItem[] = [
      { type: 'bundle', bundle: bundle(1) },
      { type: 'markup', value: '# between' },
      { type: 'private_bundle', uuid: uuid(2) },
      { type: 'bundle', bundle: bundle(3) },
    ];
    const sections = worksheetSections(items);
    expect(sections.map((s) => (s.kind === 'markup' ? s.value : s.rows.map((r) => r.reference).join(',')))).toEqual(['^3', '# between', '^2,^1']);
    expect(readableBundles(items).map((b) => b.uuid)).toEqual([uuid(3), uuid(1)]);
  });
});

