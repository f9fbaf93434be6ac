// Unpacking uploaded archives into a staging directory, refusing the whole archive when any
// entry would land outside it (absolute paths, `..`, links pointing out). Streams only.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, symlink } from 'node:fs/promises';
import { posix } from 'node:path';
import { Duplex, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar';
import { ApiError } from '../../protocol/index.js';
import { stripArchiveSuffix } from '../../common/names.js';
import { pointsOutside, unsafeEntryReason } from './entry-rules.js';
import { unpackZip } from './zip.js';

export type ArchiveKind = 'tar' | 'tar.gz' | 'tar.bz2' | 'gz' | 'bz2' | 'zip';

export function archiveKindOf(fileName: string): ArchiveKind | null {
  const lower = fileName.toLowerCase();
  if (lower.endsWith('.tar.gz') || lower.endsWith('.tgz')) return 'tar.gz';
  if (lower.endsWith('.tar.bz2') || lower.endsWith('.tbz2')) return 'tar.bz2';
  if (lower.endsWith('.tar')) return 'tar';
  if (lower.endsWith('.zip')) return 'zip';
  if (lower.endsWith('.gz')) return 'gz';
  if (lower.endsWith('.bz2')) return 'bz2';
  return null;
}

export interface UnpackOptions {
  /** The name the archive was uploaded as: it picks the format and names it in messages. */
  fileName: string;
  /**
   * Store symbolic links whose target lies outside as plain links: a run's results may hold
   * such links, and they are never followed (reads refuse to pass through links, and tar
   * refuses to extract through them), whereas uploads reject them.
   */
  keepOutsideLinks: boolean;
  /** Most bytes the unpacked contents may hold, where the format says so before writing (zip). */
  maxBytes: number;
}

/**
 * Unpacks `source` into `destDir` (which must exist and be empty) and returns the path of the
 * content: `destDir` itself for archives, `destDir/<name>` for a single compressed file.
 */
export async function unpackArchive(source: Readable, kind: ArchiveKind, destDir: string, options: UnpackOptions): Promise<string> {
  const { fileName, keepOutsideLinks } = options;
  if (kind === 'zip') return unpackZip(source, destDir, options);
  if (kind === 'gz' || kind === 'bz2') {
    const target = posix.join(destDir, stripArchiveSuffix(posix.basename(fileName)) || 'contents');
    await pipeline(source, decompressor(kind), createWriteStream(target));
    return target;
  }
  const problems: string[] = [];
  const outsideLinks: { path: string; target: string }[] = [];
  const extract = tar.x({
    cwd: destDir,
    preservePaths: false,
    strict: true,
    filter: (path, entry) => {
      const stat = entry as { type?: string; linkpath?: string };
      const reason = unsafeEntryReason(path, stat.type ?? '', stat.linkpath, keepOutsideLinks);
      if (reason) problems.push(reason);
      // tar would rewrite such a link's target; it is created untouched once all else is unpacked.
      if (!reason && stat.type === 'SymbolicLink' && stat.linkpath !== undefined && pointsOutside(path, stat.linkpath)) {
        outsideLinks.push({ path, target: stat.linkpath });
        return false;
      }
      return reason === null && problems.length === 0;
    },
  });
  try {
    if (kind === 'tar') await pipeline(source, extract);
    else await pipeline(source, decompressor(kind === 'tar.gz' ? 'gz' : 'bz2'), extract);
  } catch (error) {
    if (problems.length === 0) {
      throw new ApiError('bad_request', `Cannot unpack '${fileName}': ${(error as Error).message}`, { cause: error });
    }
  }
  if (problems.length > 0) {
    throw new ApiError('bad_request', `Archive '${fileName}' rejected, nothing stored: ${problems[0]}.`);
  }
  await mkdir(destDir, { recursive: true });
  for (const link of outsideLinks) await createLinkInside(destDir, link.path, link.target);
  return destDir;
}

/** Creates a symbolic link at `path` below `root`, refusing to pass through any link on the way. */
async function createLinkInside(root: string, path: string, target: string): Promise<void> {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  const name = parts.pop();
  if (name === undefined) return;
  let dir = root;
  for (const part of parts) {
    dir = posix.join(dir, part);
    const stat = await lstat(dir).catch(() => null);
    if (stat === null) await mkdir(dir);
    else if (!stat.isDirectory()) {
      throw new ApiError('bad_request', `Archive entry '${path}' lies below '${part}', which is not a directory.`);
    }
  }
  await symlink(target, posix.join(dir, name));
}

function decompressor(kind: 'gz' | 'bz2'): NodeJS.ReadWriteStream {
  if (kind === 'gz') return createGunzip();
  // Node has no bzip2; the system's bzip2 decompresses as a stream.
  const child = spawn('bzip2', ['-dc'], { stdio: ['pipe', 'pipe', 'ignore'] });
  const duplex = Duplex.from({ writable: child.stdin, readable: child.stdout });
  child.on('error', (error) => duplex.destroy(new Error(`bzip2 is not available: ${error.message}`)));
  child.on('close', (code) => {
    if (code !== 0) duplex.destroy(new Error(`bzip2 exited with status ${code}`));
  });
  return duplex;
}
