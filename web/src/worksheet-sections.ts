// A worksheet's items cut into what the page shows in order: text blocks, and tables of the
// bundles between them. `^N` counts over all the worksheet's bundles, as `cl ls` does. Pure.
import type { Bundle, PrivateBundle, WorksheetItem } from '../../src/protocol/index.js';
import type { BundleTableRow } from './components/BundleTable.js';

export type Section = { kind: 'markup'; value: string } | { kind: 'bundles'; rows: BundleTableRow[] };

export function worksheetSections(items: readonly WorksheetItem[]): Section[] {
  const total = items.filter((item) => item.type !== 'markup').length;
  const sections: Section[] = [];
  let seen = 0;
  for (const item of items) {
    if (item.type === 'markup') {
      sections.push({ kind: 'markup', value: item.value });
      continue;
    }
    const bundle: Bundle | PrivateBundle = item.type === 'bundle' ? item.bundle : { uuid: item.uuid, private: true };
    const row = { bundle, reference: `^${total - seen}` };
    seen += 1;
    const last = sections.at(-1);
    if (last?.kind === 'bundles') last.rows.push(row);
    else sections.push({ kind: 'bundles', rows: [row] });
  }
  return sections;
}

/** The bundles of a worksheet the caller may read, newest first: the choices for a new run's dependencies. */
export function readableBundles(items: readonly WorksheetItem[]): Bundle[] {
  const bundles: Bundle[] = [];
  for (const item of items) if (item.type === 'bundle' && !bundles.some((b) => b.uuid === item.bundle.uuid)) bundles.push(item.bundle);
  return bundles.reverse();
}
