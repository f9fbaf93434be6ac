// One row of a bundle table: a link to the bundle, its live state and what `cl ls` shows.
import { isPrivateBundle, PRIVATE_BUNDLE_NAME, type Bundle, type PrivateBundle } from '../../../src/protocol/index.js';
import { bundleName, formatBytes, formatCreated, formatDuration } from '../format.js';
import { Link, paths } from '../router.js';
import { StateBadge } from './StateBadge.js';

interface RowProps {
  bundle: Bundle | PrivateBundle;
  reference: string;
  /** Set in a virtualized table: the row's place among all rows, and how it is measured. */
  rowIndex?: number;
  virtualIndex?: number;
  measure?: (element: HTMLTableRowElement | null) => void;
}

export function BundleRow({ bundle, reference, rowIndex, virtualIndex, measure }: RowProps) {
  const rowProps = { 'data-uuid': bundle.uuid, 'aria-rowindex': rowIndex, 'data-index': virtualIndex, ref: measure };
  if (isPrivateBundle(bundle)) {
    return (
      <tr {...rowProps}>
        <td>{reference}</td>
        <td colSpan={7}>{PRIVATE_BUNDLE_NAME}</td>
      </tr>
    );
  }
  return (
    <tr {...rowProps}>
      <td>{reference}</td>
      <td>
        <Link href={paths.bundle(bundle.uuid)}>{bundleName(bundle)}</Link>
      </td>
      <td>
        <StateBadge state={bundle.state} />
      </td>
      <td className="command">{bundle.command ?? (bundle.bundle_type === 'dataset' ? '[uploaded]' : '')}</td>
      <td>{formatCreated(bundle.created)}</td>
      <td>{formatDuration(bundle.metadata.time)}</td>
      <td>{formatBytes(bundle.metadata.memory)}</td>
      <td>{formatBytes(bundle.metadata.data_size)}</td>
    </tr>
  );
}
