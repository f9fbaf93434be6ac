// A table of bundles, each row with its `^N` (worksheets) or rank (search). Past VIRTUALIZE_AFTER
// rows only the rows in view are rendered (@tanstack/react-virtual), with spacer rows keeping the
// scroll height, so a worksheet of thousands of bundles stays responsive; Tab still walks the links.
import { useVirtualizer } from '@tanstack/react-virtual';
import { useRef } from 'react';
import type { Bundle, PrivateBundle } from '../../../src/protocol/index.js';
import { BundleRow } from './BundleRow.js';

export const VIRTUALIZE_AFTER = 300;
const ROW_PX = 36;

export interface BundleTableRow {
  bundle: Bundle | PrivateBundle;
  reference: string;
}

/** `^N` for a worksheet's bundles, oldest first (^1: the newest). */
export function worksheetRows(bundles: readonly (Bundle | PrivateBundle)[]): BundleTableRow[] {
  return bundles.map((bundle, index) => ({ bundle, reference: `^${bundles.length - index}` }));
}

export function BundleTable({ rows, caption }: { rows: readonly BundleTableRow[]; caption: string }) {
  if (rows.length > VIRTUALIZE_AFTER) return <VirtualBundleTable rows={rows} caption={caption} />;
  return (
    <div className="table-scroll">
      <table className="bundles">
        <TableHead caption={caption} />
        <tbody>
          {rows.map((row) => (
            <BundleRow key={row.reference} bundle={row.bundle} reference={row.reference} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function VirtualBundleTable({ rows, caption }: { rows: readonly BundleTableRow[]; caption: string }) {
  const scroller = useRef<HTMLDivElement>(null);
  const virtualizer = useVirtualizer({ count: rows.length, getScrollElement: () => scroller.current, estimateSize: () => ROW_PX, overscan: 12 });
  const items = virtualizer.getVirtualItems();
  const before = items[0]?.start ?? 0;
  const after = virtualizer.getTotalSize() - (items.at(-1)?.end ?? 0);
  return (
    <div className="table-scroll virtual" ref={scroller} data-testid="virtual-table">
      <table className="bundles" aria-rowcount={rows.length + 1}>
        <TableHead caption={`${caption} (${rows.length} rows; rows render as they scroll into view)`} />
        <tbody>
          {before > 0 && <tr aria-hidden="true" style={{ height: before }} />}
          {items.map((item) => {
            const row = rows[item.index];
            if (!row) return null;
            return (
              <BundleRow
                key={row.reference}
                bundle={row.bundle}
                reference={row.reference}
                rowIndex={item.index + 2}
                measure={virtualizer.measureElement}
                virtualIndex={item.index}
              />
            );
          })}
          {after > 0 && <tr aria-hidden="true" style={{ height: after }} />}
        </tbody>
      </table>
    </div>
  );
}

function TableHead({ caption }: { caption: string }) {
  return (
    <>
      <caption className="visually-hidden">{caption}</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Name</th>
          <th scope="col">State</th>
          <th scope="col">Command</th>
          <th scope="col">Created</th>
          <th scope="col">Time</th>
          <th scope="col">Memory</th>
          <th scope="col">Size</th>
        </tr>
      </thead>
    </>
  );
}
