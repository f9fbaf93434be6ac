// How the pages show values: sizes as `cl` prints them, durations, dates. Pure.
import { formatSize } from '../../src/common/sizes.js';
import type { Bundle, MetadataValue } from '../../src/protocol/index.js';

export { formatSize };

export function formatBytes(value: MetadataValue | undefined): string {
  return typeof value === 'number' ? formatSize(value) : '';
}

/** `45s`, `3m 20s`, `2h 5m`. */
export function formatDuration(value: MetadataValue | undefined): string {
  if (typeof value !== 'number') return '';
  const seconds = Math.round(value);
  if (seconds < 60) return `${seconds}s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ${seconds % 60}s`;
  return `${Math.floor(seconds / 3600)}h ${Math.floor((seconds % 3600) / 60)}m`;
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
