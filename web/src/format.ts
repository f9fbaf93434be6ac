// How the pages show values: sizes and durations as `cl` prints them, dates. Pure.
import { formatDuration as formatSeconds, formatSize } from '../../src/common/sizes.js';
import type { Bundle, MetadataValue } from '../../src/protocol/index.js';

export { formatSize };

export function formatBytes(value: MetadataValue | undefined): string {
  return typeof value === 'number' ? formatSize(value) : '';
}

/** A duration in seconds as `cl` prints it (`12.3s`, `5m3s`, `2h46m`). */
export function formatDuration(value: MetadataValue | undefined): string {
  return typeof value === 'number' ? formatSeconds(value) : '';
}

/** Epoch seconds as a local date and time. */
export function formatCreated(epochSeconds: number): string {
  return new Date(epochSeconds * 1000).toLocaleString();
}

export function bundleName(bundle: Bundle): string {
  const name = bundle.metadata.name;
  return typeof name === 'string' && name !== '' ? name : bundle.uuid.slice(0, 10);
}

export function formatValue(value: MetadataValue | undefined): string {
  if (value === undefined || value === null) return '';
  return Array.isArray(value) ? value.join(', ') : String(value);
}
