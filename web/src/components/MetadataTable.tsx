// What `cl info` shows of a bundle, as a two-column table: the standard keys in `cl info`'s
// order, then any others by name; empty values are left out.
import type { ReactNode } from 'react';
import { standardMetadataKeys } from '../../../src/cli/format/standard-keys.js';
import type { Bundle, MetadataValue } from '../../../src/protocol/index.js';
import { formatBytes, formatCreated, formatDuration, formatValue } from '../format.js';
import { StateBadge } from './StateBadge.js';

/** Shown above the metadata already (`created` as the bundle's own field). */
const SHOWN_ABOVE = new Set(['created']);
const DATES = new Set(['started', 'last_updated']);
const SIZES = new Set(['data_size', 'memory', 'memory_max', 'request_memory', 'request_disk']);
const DURATIONS = new Set(['time', 'time_user', 'time_system', 'request_time', 'time_preparing', 'time_running', 'time_uploading', 'time_cleaning_up', 'time_uploading_results']);

export function MetadataTable({ bundle }: { bundle: Bundle }) {
  const rows: [string, ReactNode][] = [
    ['uuid', <code key="uuid">{bundle.uuid}</code>],
    ['type', bundle.bundle_type],
    ['state', <StateBadge key="state" state={bundle.state} />],
    ['owner', bundle.owner_name],
    ['created', formatCreated(bundle.created)],
  ];
  if (bundle.command !== null) rows.push(['command', <code key="command">{bundle.command}</code>]);
  const standard = standardMetadataKeys(bundle.bundle_type);
  const others = Object.keys(bundle.metadata).filter((key) => !standard.includes(key)).sort();
  for (const key of [...standard, ...others]) {
    if (SHOWN_ABOVE.has(key)) continue;
    const text = formatMetadata(key, bundle.metadata[key]);
    if (text !== '') rows.push([key, text]);
  }
  return (
    <section aria-labelledby="metadata-title">
      <h2 id="metadata-title">Metadata</h2>
      <table className="metadata">
        <tbody>
          {rows.map(([key, value]) => (
            <tr key={key}>
              <th scope="row">{key}</th>
              <td>{value}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function formatMetadata(key: string, value: MetadataValue | undefined): string {
  if (SIZES.has(key)) return formatBytes(value);
  if (DURATIONS.has(key)) return formatDuration(value);
  if (DATES.has(key) && typeof value === 'number') return formatCreated(value);
  return formatValue(value);
}
