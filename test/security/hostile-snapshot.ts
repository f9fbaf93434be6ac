// Test support for the hostile-input suite: a digest of everything an attack could change — the
// server's database (every table, every row), the bundle store's files below the server home, and
// a canary directory of host files outside that home — and a precise, line-per-change comparison
// of two digests. Reads only: never opens the database for writing, never follows a link.
import { createHash } from 'node:crypto';
import { lstat, mkdir, readFile, readdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { RunProgress } from '../../src/protocol/index.js';

/** What one digest covers. */
export interface SnapshotTarget {
  /** The server's SQLite file. */
  database: string;
  /** The bundle store below the server home (bundle contents, upload staging). */
  store: string;
  /** Host directories outside the server home that attacks aim at: each one listed recursively. */
  hostDirs: string[];
}

/** Key (`db …`, `store …`, `host …`) to a one-line description of its value. */
export type Snapshot = Map<string, string>;

/**
 * Columns that change on requests no attack controls, left out of the digest:
 * - workers: a real worker checks in every few seconds with its time, free disk and cache;
 * - bundles.last_updated and a run's progress keys in its metadata (RunProgress: time, memory,
 *   run_status, …): the worker reports a running bundle's progress at each check-in.
 * - bundles.disk_bytes: derived by SQLite from the metadata's data_size (a progress key above);
 * - users.time_used (run-seconds charged from those same reports) and users.last_login (set by
 *   every password login, which each `cl` with a fresh home makes).
 * The login limiter's counters live in memory and tokens have no last-used time, so neither is
 * in the database; tokens are compared in full (a case that logs in is a change).
 */
const VOLATILE_COLUMNS: Record<string, ReadonlySet<string>> = {
  workers: new Set(['checkin_time', 'free_disk_bytes', 'cached_dependencies', 'gpus_seen', 'runs_left', 'docker_ok', 'docker_message']),
  bundles: new Set(['last_updated', 'disk_bytes']),
  users: new Set(['time_used', 'last_login']),
};
const VOLATILE_METADATA_KEYS: ReadonlySet<string> = new Set(Object.keys(RunProgress.shape));

export async function takeSnapshot(target: SnapshotTarget): Promise<Snapshot> {
  const snapshot: Snapshot = new Map();
  digestDatabase(target.database, snapshot);
  await digestTree(target.store, 'store', snapshot);
  for (const dir of target.hostDirs) await digestTree(dir, `host ${dir}`, snapshot);
  return snapshot;
}

/** Every difference, one line each: `+ key value`, `- key value`, or `~ key: before → after`. */
export function diffSnapshots(before: Snapshot, after: Snapshot): string[] {
  const lines: string[] = [];
  for (const [key, value] of before) {
    const now = after.get(key);
    if (now === undefined) lines.push(`- ${key} ${value}`);
    else if (now !== value) lines.push(`~ ${key}: ${value} → ${now}`);
  }
  for (const [key, value] of after) if (!before.has(key)) lines.push(`+ ${key} ${value}`);
  return lines;
}

function digestDatabase(path: string, snapshot: Snapshot): void {
  // Read-only: the server keeps writing through its own connection (WAL) while this one reads.
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all() as string[];
    for (const table of tables) {
      const columns = db.prepare(`PRAGMA table_info("${table}")`).all() as { name: string; pk: number }[];
      // Rows named by their uuid where they have one, so that a diff line says which bundle changed;
      // SQLite's own counters (no primary key) by the table they count.
      const keyColumns = columns.some((c) => c.name === 'uuid')
        ? ['uuid']
        : table === 'sqlite_sequence'
          ? ['name']
          : columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
      const volatile = VOLATILE_COLUMNS[table] ?? new Set<string>();
      for (const row of db.prepare(`SELECT * FROM "${table}"`).all() as Record<string, unknown>[]) {
        const key = keyColumns.length > 0 ? keyColumns.map((c) => `${c}=${String(row[c])}`).join(',') : JSON.stringify(row);
        for (const [column, value] of Object.entries(row)) {
          if (volatile.has(column) || keyColumns.includes(column)) continue;
          snapshot.set(`db ${table}[${key}].${column}`, describeColumn(column, value));
        }
      }
    }
  } finally {
    db.close();
  }
}

function describeColumn(column: string, value: unknown): string {
  if (column !== 'metadata' || typeof value !== 'string') return JSON.stringify(value);
  const metadata = JSON.parse(value) as Record<string, unknown>;
  const stable = Object.keys(metadata)
    .filter((k) => !VOLATILE_METADATA_KEYS.has(k))
    .sort()
    .map((k) => [k, metadata[k]]);
  return JSON.stringify(Object.fromEntries(stable));
}

/** Path (relative to `root`), type, size, mode, link target and content hash of everything below it. */
async function digestTree(root: string, label: string, snapshot: Snapshot, relative = ''): Promise<void> {
  const here = join(root, relative);
  const info = await lstat(here).catch(() => null);
  if (info === null) return;
  const mode = (info.mode & 0o7777).toString(8);
  const key = `${label} ${relative || '.'}`;
  if (info.isSymbolicLink()) {
    snapshot.set(key, `link -> ${await readlink(here)}`);
  } else if (info.isDirectory()) {
    snapshot.set(key, `dir ${mode}`);
    for (const name of (await readdir(here)).sort()) await digestTree(root, label, snapshot, join(relative, name));
  } else if (info.isFile()) {
    const hash = createHash('sha256').update(await readFile(here)).digest('hex').slice(0, 16);
    snapshot.set(key, `file ${info.size} ${mode} ${hash}`);
  } else {
    snapshot.set(key, `special ${info.mode.toString(8)}`);
  }
}

/** Host files the attacks aim at: `<parent>/canary` with files, a subdirectory and a link. */
export interface Canary {
  /** Listed as a whole: nothing may appear next to the canary either. */
  parent: string;
  dir: string;
  secret: string;
}

export const CANARY_SECRET = 'CANARY-SECRET-7731';

export async function makeCanary(parent: string): Promise<Canary> {
  const dir = join(parent, 'canary');
  await mkdir(join(dir, 'sub'), { recursive: true });
  await writeFile(join(parent, 'marker'), 'next to the canary\n');
  await writeFile(join(dir, 'secret.txt'), `${CANARY_SECRET}\n`);
  await writeFile(join(dir, 'victim.txt'), 'must stay as it is\n');
  await writeFile(join(dir, 'sub', 'victim.txt'), 'must stay as it is too\n');
  await symlink('secret.txt', join(dir, 'link-to-secret'));
  return { parent, dir, secret: CANARY_SECRET };
}
