// Tables of several things: a directory's entries (`cl cat DIR`), a worksheet's bundles (`cl ls`)
// and the workers (`cl workers`). Pure: data from the API in, lines out; `now` is passed in.
import { formatSize } from '../../common/sizes.js';
import { PRIVATE_BUNDLE_NAME, isPrivateBundle, type Bundle, type TargetInfo, type WorkerInfo, type Worksheet, type WorksheetContents } from '../../protocol/index.js';
import { formatTable } from './table.js';
import { terminalText } from './terminal-text.js';
import { shortUuid } from './values.js';

/** One level of a directory: name (`-> target` for links), permissions in octal, size or `dir`. */
export function formatDirectoryListing(info: TargetInfo): string[] {
  const entries = [...(info.contents ?? [])].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const rows = entries.map((entry) => [
    entry.type === 'link' ? `${entry.name} -> ${entry.link ?? '?'}` : entry.name,
    (entry.perm & 0o7777).toString(8),
    entry.type === 'directory' ? 'dir' : formatSize(entry.size),
  ]);
  return formatTable(['name', 'perm', 'size'], rows);
}

export function bundleSummary(bundle: Bundle): string {
  if (bundle.bundle_type === 'run') return `! ${terminalText(bundle.command ?? '')}`;
  if (bundle.bundle_type === 'dataset' && bundle.state === 'ready') return '[uploaded]';
  return '';
}

/** `cl ls`: a header naming the worksheet, then its bundles oldest first, each with its `^N`. */
export function formatWorksheetListing(contents: WorksheetContents): string[] {
  const { worksheet, bundles } = contents;
  const header = worksheetHeader(worksheet);
  if (bundles.length === 0) return [...header, '', '(no bundles)'];
  const rows = bundles.map((bundle, index) => {
    if (isPrivateBundle(bundle)) return [`^${bundles.length - index}`, shortUuid(bundle.uuid), PRIVATE_BUNDLE_NAME, '', '', ''];
    const size = bundle.metadata.data_size;
    return [
      `^${bundles.length - index}`,
      shortUuid(bundle.uuid),
      String(bundle.metadata.name ?? ''),
      truncate(bundleSummary(bundle), 60),
      typeof size === 'number' ? formatSize(size) : '',
      bundle.state,
    ];
  });
  return [...header, '', ...formatTable(['ref', 'uuid', 'name', 'summary', 'data_size', 'state'], rows)];
}

/** `cl workers`: one row per worker, with usage as used/total and the last check-in as an age. */
export function formatWorkersTable(workers: readonly WorkerInfo[], nowSeconds: number): string[] {
  const rows = workers.map((worker) => [
    worker.id,
    `${worker.cpus_in_use}/${worker.cpus}`,
    `${worker.gpus_in_use}/${worker.gpus}`,
    formatSize(worker.memory_bytes),
    formatSize(worker.free_disk_bytes),
    `${Math.max(0, Math.round(nowSeconds - worker.checkin_time))}s ago${worker.online ? '' : ' (offline)'}`,
    worker.tag === null ? '' : `${worker.tag}${worker.tag_exclusive ? ' (exclusive)' : ''}`,
    worker.runs.map(shortUuid).join(','),
    worker.docker_ok ? 'ok' : (worker.docker_message ?? 'unavailable'),
    worker.warning ?? '',
  ]);
  return formatTable(
    ['worker_id', 'cpus', 'gpus', 'memory', 'free_disk', 'last_checkin', 'tag', 'runs', 'docker', 'warning'],
    rows,
  );
}

/** The `###` lines that open `cl ls` and `cl print`. */
export function worksheetHeader(worksheet: Worksheet): string[] {
  return [
    terminalText(`### Worksheet: ${worksheet.name} (${worksheet.uuid})`),
    ...(worksheet.title ? [terminalText(`### Title: ${worksheet.title}`)] : []),
    terminalText(`### Owner: ${worksheet.owner_name}`),
  ];
}

function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 3)}...`;
}
