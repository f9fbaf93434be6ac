// What `cl info` shows of a bundle, as a two-column table; empty values are left out.
import type { ReactNode } from 'react';
import type { Bundle } from '../../../src/protocol/index.js';
import { formatBytes, formatCreated, formatDuration, formatValue } from '../format.js';
import { StateBadge } from './StateBadge.js';

/** Metadata shown as rows of their own, in this order; the rest follow by name. */
const SIZES = new Set(['data_size', 'memory', 'memory_max', 'request_memory', 'request_disk']);
const DURATIONS = new Set(['time', 'time_user', 'time_system', 'request_time', 'time_preparing', 'time_running', 'time_uploading', 'time_cleaning_up']);

export function MetadataTable({ bundle }: { bundle: Bundle }) {
  const rows: [string, ReactNode][] = [
    ['uuid', <code key="uuid">{bundle.uuid}</code>],
    ['type', bundle.bundle_type],
    ['state', <StateBadge key="state" state={bundle.state} />],
    ['owner', bundle.owner_name],
    ['created', formatCreated(bundle.created)],
  ];
  if (bundle.command !== null) rows.push(['command', <code key="command">{bundle.command}</code>]);
  for (const key of Object.keys(bundle.metadata).sort()) {
    const value = bundle.metadata[key];
    const text = SIZES.has(key) ? formatBytes(value) : DURATIONS.has(key) ? formatDuration(value) : formatValue(value);
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
