// Finding a path of a running bundle on the worker without ever leaving it, while the run may be
// renaming and swapping its own files: the path is walked one name at a time through held
// directories (DirHandle), so the kernel refuses a link anywhere on the way, and what is found is
// handed over as its open parent directory plus one name, never as a path to reopen. No `..`, no
// absolute paths. Dependency mount points are hidden from listings, and `key/file` is found in
// the dependency's cached copy (the run dir only holds an empty mount point there).
import type { Stats } from 'node:fs';
import path from 'node:path';
import { DirHandle, EntryError } from '../fs/dir-handle.js';

export interface DependencyMount {
  /** Where the dependency appears, relative to the run dir (normalized, no leading `./`). */
  path: string;
  /** The cached copy on the host. */
  hostPath: string;
}

export interface RunFiles {
  runDir: string;
  mounts: readonly DependencyMount[];
}

export type PathErrorCode = 'bad_request' | 'not_found';

export class RunPathError extends Error {
  constructor(
    readonly code: PathErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'RunPathError';
  }
}

export type EntryKind = 'file' | 'directory' | 'link' | 'other';

/** An entry found inside a run: its parent directory, held open, and its name in it. */
export interface LocatedEntry {
  parent: DirHandle;
  name: string;
  kind: EntryKind;
  /** What lstat said when it was found; open the entry to rely on it. */
  stat: Stats;
  /** Names below this directory to leave out of listings and tars (dependency mount points). */
  hidden: string[];
  /** The dependency mount the path lies in, if any. */
  mount: DependencyMount | null;
}

/** The parts of a relative path; throws for absolute paths and `..`. */
export function splitRunPath(subpath: string): string[] {
  if (subpath.startsWith('/')) throw new RunPathError('bad_request', `Path '${subpath}' must be relative to the bundle.`);
  const parts = subpath.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new RunPathError('bad_request', `Path '${subpath}' may not contain '..'.`);
  return parts;
}

export function findMount(files: RunFiles, relative: string): DependencyMount | null {
  return files.mounts.find((m) => relative === m.path || relative.startsWith(`${m.path}/`)) ?? null;
}

/**
 * Finds `subpath`; the caller closes `parent`. The root itself (the run dir or a dependency's
 * copy, both made by the worker) is opened by path; every name below it through held directories.
 */
export async function locateRunPath(files: RunFiles, subpath: string): Promise<LocatedEntry> {
  const parts = splitRunPath(subpath);
  const relative = parts.join('/');
  const mount = findMount(files, relative);
  const root = mount ? mount.hostPath : files.runDir;
  const rest = mount ? splitRunPath(relative.slice(mount.path.length).replace(/^\/+/, '')) : parts;
  const hidden = mount ? [] : hiddenBelow(files, relative);
  const names = [path.basename(root), ...rest];
  let parent = await DirHandle.open(path.dirname(root));
  try {
    for (const name of names.slice(0, -1)) {
      const next = await parent.openDir(name).catch((error: unknown) => {
        throw pathError(error, subpath);
      });
      await parent.close();
      parent = next;
    }
    const name = names[names.length - 1] as string;
    const stat = await parent.lstat(name);
    if (stat === null) throw notFound(subpath);
    return { parent, name, kind: kindOf(stat), stat, hidden, mount };
  } catch (error) {
    await parent.close();
    throw error;
  }
}

/** The directory at `subpath`, held open; the caller closes it. */
export async function openRunDirectory(files: RunFiles, subpath: string): Promise<{ dir: DirHandle; hidden: string[] }> {
  const entry = await locateRunPath(files, subpath);
  try {
    const dir = await entry.parent.openDir(entry.name).catch((error: unknown) => {
      throw pathError(error, subpath, `Directory '${subpath}' doesn't exist in the bundle.`);
    });
    return { dir, hidden: entry.hidden };
  } finally {
    await entry.parent.close();
  }
}

/** Turns a refused open into the error a reader sees. */
export function pathError(error: unknown, subpath: string, missing?: string): Error {
  if (!(error instanceof EntryError)) return error instanceof Error ? error : new Error(String(error));
  if (error.code === 'link') return new RunPathError('not_found', `Target '${subpath}' passes through a symbolic link.`);
  if (error.code === 'not_file') return new RunPathError('bad_request', `'${subpath}' is not a regular file.`);
  if (error.code === 'other') return new RunPathError('bad_request', error.message);
  return missing === undefined ? notFound(subpath) : new RunPathError('not_found', missing);
}

function notFound(subpath: string): RunPathError {
  return new RunPathError('not_found', `Target '${subpath}' doesn't exist in the bundle.`);
}

function kindOf(stat: Stats): EntryKind {
  if (stat.isSymbolicLink()) return 'link';
  if (stat.isDirectory()) return 'directory';
  return stat.isFile() ? 'file' : 'other';
}

/** Mount points directly or deeper below `relative`, relative to it. */
function hiddenBelow(files: RunFiles, relative: string): string[] {
  if (relative === '') return files.mounts.map((m) => m.path);
  return files.mounts.filter((m) => m.path.startsWith(`${relative}/`)).map((m) => m.path.slice(relative.length + 1));
}
