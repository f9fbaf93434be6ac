// What `cl info` prints about one bundle: the `key : value` view, and the values of `-f` fields.
// Pure: takes a Bundle from the API and returns lines; reading stdout/stderr previews is the
// command's job.
import { FROZEN_KEY, type Bundle, type MetadataValue } from '../../protocol/index.js';
import { standardMetadataKeys } from './standard-keys.js';
import { terminalText } from './terminal-text.js';
import { formatRawValue, formatValue, isEmptyValue } from './values.js';

/** Metadata shown first, in this order; any other keys follow alphabetically. */
const METADATA_ORDER = [
  'name',
  'description',
  'tags',
  'license',
  'source_url',
  'link_url',
  'link_format',
  'data_size',
  'allow_failed_dependencies',
  'request_docker_image',
  'request_time',
  'request_memory',
  'request_disk',
  'request_cpus',
  'request_gpus',
  'request_queue',
  'request_priority',
  'request_network',
  'exclude_patterns',
  'store',
  'docker_image',
  'remote',
  'remote_history',
  'job_handle',
  'on_preemptible_worker',
  'started',
  'last_updated',
  'time',
  'time_preparing',
  'time_running',
  'time_cleaning_up',
  'time_uploading_results',
  'time_user',
  'time_system',
  'cpu_usage',
  'memory_usage',
  'memory',
  'memory_max',
  'exitcode',
  'failure_message',
  'staged_status',
  'run_status',
  'actions',
  'cpuset',
  'gpuset',
];

/** Shown in the header lines already, even when the server also keeps them in the metadata. */
const HEADER_KEYS = new Set(['bundle_type', 'uuid', 'name', 'owner', 'created', 'state', 'command', FROZEN_KEY]);

/** Bundle fields a `-f` list may name; anything else is read from the metadata. */
const BUNDLE_FIELDS: Record<string, (bundle: Bundle) => MetadataValue> = {
  uuid: (b) => b.uuid,
  state: (b) => b.state,
  command: (b) => b.command,
  bundle_type: (b) => b.bundle_type,
  owner: (b) => b.owner_name,
  owner_id: (b) => b.owner_id,
  created: (b) => b.created,
  is_dir: (b) => b.is_dir,
  dependencies: (b) => b.dependencies.map((d) => `${d.child_path}:${d.parent_uuid}${d.parent_path ? `/${d.parent_path}` : ''}`),
};

export function fieldValue(bundle: Bundle, field: string): MetadataValue | undefined {
  const read = BUNDLE_FIELDS[field];
  return read ? read(bundle) : bundle.metadata[field];
}

/** `cl info -f a,b`: the values, tab-separated, exactly as stored (`--raw` is implied). */
export function formatFieldValues(bundle: Bundle, fields: readonly string[]): string {
  return fields.map((field) => terminalText(formatRawValue(fieldValue(bundle, field)))).join('\t');
}

export function parseFieldList(text: string): string[] {
  return text
    .split(',')
    .map((field) => field.trim())
    .filter((field) => field !== '');
}

/**
 * `cl info SPEC`: `key : value` lines, then the dependencies. Raw shows values as stored and every
 * standard key of the bundle's type, empty ones included; otherwise empty values are left out.
 */
export function formatBundleInfo(
  bundle: Bundle,
  options: { raw: boolean; /** Shown after the metadata (`--verbose`). */ extra?: readonly (readonly [string, string])[] },
): string[] {
  const show = (key: string, value: MetadataValue | undefined): string =>
    options.raw ? formatRawValue(value) : formatValue(key, value);
  const entries: [string, string][] = [
    ['bundle_type', bundle.bundle_type],
    ['uuid', bundle.uuid],
    ['name', show('name', bundle.metadata.name)],
    ['owner', bundle.owner_name],
    ['created', show('created', bundle.created)],
    ['state', bundle.state],
  ];
  if (bundle.command !== null) entries.push(['command', bundle.command]);
  const frozen = bundle.metadata[FROZEN_KEY];
  if (options.raw || !isEmptyValue(frozen)) entries.push([FROZEN_KEY, show(FROZEN_KEY, frozen)]);
  const keys = options.raw ? [...standardMetadataKeys(bundle.bundle_type), ...Object.keys(bundle.metadata)] : Object.keys(bundle.metadata);
  for (const key of orderedMetadataKeys(keys)) {
    const value = bundle.metadata[key];
    if (HEADER_KEYS.has(key) || (!options.raw && isEmptyValue(value))) continue;
    entries.push([key, show(key, value)]);
  }
  const lines = formatEntries([...entries, ...(options.extra ?? [])]);
  if (bundle.dependencies.length > 0) {
    lines.push('dependencies:');
    for (const dep of bundle.dependencies) {
      const path = dep.parent_path ? `/${dep.parent_path}` : '';
      lines.push(terminalText(`  ${dep.child_path}: ${dep.parent_name ?? '<unknown>'}(${dep.parent_uuid})${path}`));
    }
  }
  return lines;
}

/** `key : value` lines, keys padded to one width. */
export function formatEntries(entries: readonly (readonly [string, string])[]): string[] {
  // Keys are stored data too (`cl edit -f KEY`): escaped before the padding is measured.
  const shown = entries.map(([key, value]) => [terminalText(key), terminalText(value)] as const);
  const width = Math.max(...shown.map(([key]) => key.length));
  return shown.map(([key, value]) => `${key.padEnd(width)} : ${value}`);
}

/** The keys without repeats: known ones in METADATA_ORDER, then the others alphabetically. */
export function orderedMetadataKeys(keys: readonly string[]): string[] {
  const present = new Set(keys);
  const known = METADATA_ORDER.filter((key) => present.has(key));
  const others = [...present].filter((key) => !METADATA_ORDER.includes(key)).sort();
  return [...known, ...others];
}
