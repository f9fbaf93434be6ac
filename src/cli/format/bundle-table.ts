// A table of bundles for search results and worksheet prints: uuid, name, summary, owner,
// created, size, state; `ref` (^N) columns are added by the caller when it knows them. Pure.
import { formatSize } from '../../common/sizes.js';
import type { Bundle } from '../../protocol/index.js';
import { bundleSummary } from './listings.js';
import { formatTable } from './table.js';
import { formatDate, shortUuid } from './values.js';

export function bundleRow(bundle: Bundle): string[] {
  const size = bundle.metadata.data_size;
  const summary = bundleSummary(bundle);
  return [
    shortUuid(bundle.uuid),
    String(bundle.metadata.name ?? ''),
    summary.length > 60 ? `${summary.slice(0, 57)}...` : summary,
    bundle.owner_name,
    formatDate(bundle.created),
    typeof size === 'number' ? formatSize(size) : '',
    bundle.state,
  ];
}

export function formatBundleTable(bundles: readonly Bundle[], refs?: readonly string[]): string[] {
  const header = ['uuid', 'name', 'summary', 'owner', 'created', 'data_size', 'state'];
  const rows = bundles.map((b, i) => (refs ? [refs[i] ?? '', ...bundleRow(b)] : bundleRow(b)));
  return formatTable(refs ? ['ref', ...header] : header, rows);
}
