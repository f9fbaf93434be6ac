// How single values are shown to people: dates, sizes and durations of known metadata keys,
// lists and booleans. Raw mode (`--raw`, `-f`) shows values as stored instead. Pure functions.
import { formatDuration, formatSize } from '../../common/sizes.js';
import type { MetadataValue } from '../../protocol/index.js';

const SIZE_KEYS = new Set(['data_size', 'request_memory', 'request_disk', 'memory', 'memory_max']);
const DURATION_KEYS = new Set([
  'request_time',
  'time',
  'time_user',
  'time_system',
  'time_preparing',
  'time_running',
  'time_cleaning_up',
  'time_uploading_results',
]);
const DATE_KEYS = new Set(['created', 'started', 'last_updated', 'frozen']);

/** Local time as `YYYY-MM-DD HH:MM:SS`, from epoch seconds. */
export function formatDate(epochSeconds: number): string {
  const date = new Date(epochSeconds * 1000);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ` +
    `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`
  );
}

/** A value as stored: lists joined by spaces, null as empty. */
export function formatRawValue(value: MetadataValue | undefined): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.join(' ');
  return String(value);
}

/** A value for people: sizes, durations and dates of the keys known to hold them. */
export function formatValue(key: string, value: MetadataValue | undefined): string {
  if (typeof value === 'number') {
    if (SIZE_KEYS.has(key)) return formatSize(value);
    if (DURATION_KEYS.has(key)) return formatDuration(value);
    if (DATE_KEYS.has(key)) return formatDate(value);
    if (key === 'cpu_usage') return `${Math.round(value * 100)}%`;
  }
  return formatRawValue(value);
}

export function isEmptyValue(value: MetadataValue | undefined): boolean {
  return value === null || value === undefined || value === '' || (Array.isArray(value) && value.length === 0);
}

/** The short uuid shown in tables: `0x` and the first 8 hex digits. */
export function shortUuid(uuid: string): string {
  return uuid.slice(0, 10);
}
