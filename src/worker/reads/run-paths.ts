// Resolving a path of a running bundle on the worker without ever leaving it: no `..`, no
// absolute paths, no passing through a symbolic link (a link at the end is reported as a link,
// never followed). Dependency mount points are hidden from listings, and `key/file` resolves into
// the dependency's cached copy (the run dir only holds an empty mount point there).
import { constants } from 'node:fs';
import { lstat, open, readlink, realpath, type FileHandle } from 'node:fs/promises';
import path from 'node:path';

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

export interface ResolvedRunPath {
  /** Absolute host path. */
  path: string;
  /** The directory the path was resolved in (the run dir or a dependency's copy). */
  root: string;
  kind: 'file' | 'directory' | 'link';
  size: number;
  mode: number;
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

export async function resolveRunPath(files: RunFiles, subpath: string): Promise<ResolvedRunPath> {
  const parts = splitRunPath(subpath);
  const relative = parts.join('/');
  const mount = findMount(files, relative);
  const root = mount ? mount.hostPath : files.runDir;
  const rest = mount ? splitRunPath(relative.slice(mount.path.length).replace(/^\/+/, '')) : parts;
  const hidden = mount ? [] : hiddenBelow(files, relative);
  let current = root;
  for (let i = 0; i <= rest.length; i += 1) {
    const stat = await lstat(current).catch(() => null);
    if (!stat) throw new RunPathError('not_found', `Target '${subpath}' doesn't exist in the bundle.`);
    const isLast = i === rest.length;
    if (stat.isSymbolicLink()) {
      if (!isLast) throw new RunPathError('not_found', `Target '${subpath}' passes through a symbolic link.`);
      return { path: current, root, kind: 'link', size: stat.size, mode: stat.mode & 0o777, hidden, mount };
    }
    if (isLast) {
      const kind = stat.isDirectory() ? 'directory' : 'file';
      return { path: current, root, kind, size: stat.size, mode: stat.mode & 0o777, hidden, mount };
    }
    if (!stat.isDirectory()) throw new RunPathError('not_found', `Target '${subpath}' doesn't exist in the bundle.`);
    current = path.join(current, rest[i] as string);
  }
  throw new RunPathError('not_found', 'unreachable');
}

/** Mount points directly or deeper below `relative`, relative to it. */
function hiddenBelow(files: RunFiles, relative: string): string[] {
  if (relative === '') return files.mounts.map((m) => m.path);
  return files.mounts.filter((m) => m.path.startsWith(`${relative}/`)).map((m) => m.path.slice(relative.length + 1));
}

/**
 * Opens a resolved file without following a link at its end, then checks that what was opened
 * really lies inside `root`: a run could swap a directory for a link between resolving and opening.
 */
export async function openInside(root: string, file: string, flags: number, mode?: number): Promise<FileHandle> {
  const handle = await open(file, flags | constants.O_NOFOLLOW, mode).catch((error: unknown) => {
    const code = (error as { code?: string }).code;
    if (code === 'ELOOP') throw new RunPathError('not_found', `'${path.basename(file)}' is a symbolic link.`);
    if (code === 'ENOENT' || code === 'ENOTDIR') throw new RunPathError('not_found', `'${path.basename(file)}' doesn't exist.`);
    throw error;
  });
  try {
    const real = await readlink(`/proc/self/fd/${handle.fd}`).catch(() => null);
    const realRoot = await realpath(root);
    if (real !== null && !isInside(real, realRoot)) throw new RunPathError('not_found', `'${path.basename(file)}' is outside the bundle.`);
    return handle;
  } catch (error) {
    await handle.close();
    throw error;
  }
}

export function isInside(candidate: string, root: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel));
}
