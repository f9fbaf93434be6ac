// A table of bundles for search results and worksheet prints: uuid, name, summary, owner,
// created, size, state; `ref` (^N) columns are added by the caller when it knows them. Pure.
import { formatSize } from '../../common/sizes.js';
import { PRIVATE_BUNDLE_NAME, isPrivateBundle, type Bundle, type PrivateBundle } from '../../protocol/index.js';
import { bundleSummary } from './listings.js';
import { formatTable } from './table.js';
import { formatDate, shortUuid } from './values.js';

/** A bundle the caller may not read shows its uuid and `<private>`, nothing more. */
export function bundleRow(bundle: Bundle | PrivateBundle): string[] {
  if (isPrivateBundle(bundle)) return [shortUuid(bundle.uuid), PRIVATE_BUNDLE_NAME, '', '', '', '', ''];
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

export function formatBundleTable(bundles: readonly (Bundle | PrivateBundle)[], refs?: readonly string[]): string[] {
  const header = ['uuid', 'name', 'summary', 'owner', 'created', 'data_size', 'state'];
  const rows = bundles.map((b, i) => (refs ? [refs[i] ?? '', ...bundleRow(b)] : bundleRow(b)));
  return formatTable(refs ? ['ref', ...header] : header, rows);
}
