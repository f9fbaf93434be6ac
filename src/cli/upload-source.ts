// What `cl upload` sends for local paths: one plain file raw, one archive raw for the server to
// unpack, and a directory or several paths as a plain tar stream (one directory: its contents at
// the root; several paths: each under its basename). Bodies are streams, never whole files in
// memory. `.git`, `__MACOSX` and `._*` are left out; symlinks travel as links.
import { createReadStream } from 'node:fs';
import { lstat, readdir, stat } from 'node:fs/promises';
import { basename, join, resolve, sep } from 'node:path';
import { Readable } from 'node:stream';
import { create as createTar } from 'tar';
import { stripArchiveSuffix, toDefaultName } from '../common/names.js';
import { UserInputError } from '../common/user-input-error.js';

/**
 * Bytes per read of a file going into the tar stream: node-tar's default, 16 MiB, makes each
 * read a fresh buffer so large that V8 collects garbage far more often.
 */
const READ_CHUNK_BYTES = 1024 * 1024;

export interface UploadPlan {
  /** How the server should store the body: unpack archives and tar streams, keep plain files. */
  unpack: boolean;
  /** File name the server sees, which tells it the archive format. */
  filename: string;
  /** Default bundle name when -n is not given. */
  defaultName: string;
  /** Bytes expected, for the progress bar (approximate for tar streams). */
  totalBytes: number;
  open(): Readable;
}

/** `.tar .tar.gz .tgz .tar.bz2 .zip .gz .bz2`: sent as they are, for the server to unpack. */
export function isArchiveName(fileName: string): boolean {
  return stripArchiveSuffix(fileName) !== fileName;
}

export function isExcludedName(name: string): boolean {
  return name === '.git' || name === '__MACOSX' || name.startsWith('._');
}

/** `upload --pack`, `-x/--exclude-patterns` (globs matched against basenames) and `-L`. */
export interface PathUploadOptions {
  pack?: boolean;
  excludePatterns?: readonly string[];
  followSymlinks?: boolean;
}

/** A glob (`*`, `?`, `[...]`) matched against a whole basename. */
export function globToRegExp(glob: string): RegExp {
  let body = '';
  for (const char of glob) {
    if (char === '*') body += '[^/]*';
    else if (char === '?') body += '[^/]';
    else if (char === '[' || char === ']') body += char;
    else body += char.replace(/[.*+?^${}()|\\]/g, '\\$&');
  }
  return new RegExp(`^${body}$`);
}

function excluder(options: PathUploadOptions): (name: string) => boolean {
  const patterns = (options.excludePatterns ?? []).map(globToRegExp);
  return (name) => isExcludedName(name) || patterns.some((p) => p.test(name));
}

/** The default name for uploaded paths: basenames without archive suffixes, joined by '-'. */
export function defaultUploadName(paths: readonly string[]): string {
  return toDefaultName(paths.map((p) => stripArchiveSuffix(basename(resolve(p)))).join('-'));
}

export function planTextUpload(text: string): UploadPlan {
  const body = Buffer.from(text, 'utf8');
  return {
    unpack: false,
    filename: 'contents',
    defaultName: 'contents',
    totalBytes: body.length,
    open: () => Readable.from([body]),
  };
}

/** Checks every path before anything is created on the server, then plans the body. */
export async function planPathUpload(paths: readonly string[], cwd: string, options: PathUploadOptions = {}): Promise<UploadPlan> {
  if (paths.length === 0) throw new UserInputError('Nothing to upload: give one or more paths, or -c TEXT.');
  const absolute = paths.map((p) => resolve(cwd, p));
  for (const [index, path] of absolute.entries()) {
    const info = await lstat(path).catch(() => {
      throw new UserInputError(`Cannot upload '${paths[index] ?? path}': no such file or directory.`);
    });
    if (info.isSymbolicLink() && !options.followSymlinks) {
      throw new UserInputError(`Cannot upload '${paths[index] ?? path}': it is a symbolic link; use -L to upload what it points to.`);
    }
  }
  const defaultName = options.pack ? toDefaultName(absolute.map((p) => basename(p)).join('-')) : defaultUploadName(absolute);
  const exclude = excluder(options);
  const follow = options.followSymlinks === true;
  const first = absolute[0];
  if (absolute.length === 1 && first !== undefined) {
    const info = await stat(first).catch(() => {
      throw new UserInputError(`Cannot upload '${paths[0] ?? first}': it is a broken symbolic link.`);
    });
    if (info.isFile()) {
      const filename = basename(first);
      return { unpack: !options.pack && isArchiveName(filename), filename, defaultName, totalBytes: info.size, open: () => createReadStream(first) };
    }
    if (info.isDirectory()) return planDirectory(first, defaultName, exclude, follow);
    throw new UserInputError(`Cannot upload '${paths[0] ?? first}': not a regular file or directory.`);
  }
  return planSeveral(absolute, defaultName, exclude, follow);
}

async function planDirectory(dir: string, defaultName: string, exclude: (name: string) => boolean, follow: boolean): Promise<UploadPlan> {
  const entries = (await readdir(dir)).filter((name) => !exclude(name)).sort();
  return {
    unpack: true,
    filename: 'x.tar',
    defaultName,
    totalBytes: await treeSize(dir),
    open: () =>
      Readable.from(
        createTar({ cwd: dir, portable: true, follow, maxReadSize: READ_CHUNK_BYTES, filter: (path) => !exclude(basename(path)) }, entries.length > 0 ? entries : ['.']),
      ),
  };
}

/** Several paths: each source appears in the archive under its basename. */
async function planSeveral(
  paths: readonly string[],
  defaultName: string,
  exclude: (name: string) => boolean,
  follow: boolean,
): Promise<UploadPlan> {
  const names = new Map<string, string>();
  for (const path of paths) {
    const name = basename(path);
    const clash = names.get(name);
    if (clash !== undefined) throw new UserInputError(`Cannot upload both '${clash}' and '${path}': they share the name '${name}'.`);
    names.set(name, path);
  }
  let total = 0;
  for (const path of paths) total += await treeSize(path);
  // Archive every path relative to '/', then rename each entry's leading source path to its basename.
  const relativeSources = paths.map((path) => ({ from: path.slice(1), to: basename(path) }));
  const rename = (entryPath: string): string => {
    for (const { from, to } of relativeSources) {
      if (entryPath === from || entryPath.startsWith(`${from}/`)) return to + entryPath.slice(from.length);
    }
    return entryPath;
  };
  return {
    unpack: true,
    filename: 'x.tar',
    defaultName,
    totalBytes: total,
    open: () =>
      Readable.from(
        createTar(
          {
            cwd: sep,
            portable: true,
            follow,
            maxReadSize: READ_CHUNK_BYTES,
            filter: (path) => !exclude(basename(path)),
            onWriteEntry: (entry) => {
              entry.path = rename(entry.path);
            },
          },
          relativeSources.map((source) => source.from),
        ),
      ),
  };
}

/** Total bytes of regular files under a path (not following links, skipping excluded names). */
async function treeSize(path: string): Promise<number> {
  const info = await lstat(path);
  if (!info.isDirectory()) return info.isFile() ? info.size : 0;
  let total = 0;
  for (const name of await readdir(path)) {
    if (!isExcludedName(name)) total += await treeSize(join(path, name));
  }
  return total;
}
