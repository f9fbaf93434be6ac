// Unpacking uploaded archives and run results into a staging directory, refusing the whole
// archive when any entry breaks the rules of entry-rules.ts (lands outside, is written through a
// link, is a device node or FIFO). Modes keep permission bits only; owners are never restored.
// Streams only.
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { posix } from 'node:path';
import { Duplex, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import * as tar from 'tar';
import { createLinkBelow, LinkPlacementError, pointsOutside } from '../../common/link-below.js';
import { stripArchiveSuffix } from '../../common/names.js';
import {
  EntryRefused,
  LinkEntries,
  PERMISSION_BITS,
  archiveRefused,
  belowLinkReason,
  pathParts,
  specialFileReason,
  unpackFailure,
  unsafeEntryReason,
} from './entry-rules.js';
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
  /** Most bytes the unpacked contents may hold, where the format says so before writing (zip). */
  maxBytes: number;
}

/**
 * Unpacks `source` into `destDir` (which must exist and be empty) and returns the path of the
 * content: `destDir` itself for archives, `destDir/<name>` for a single compressed file.
 */
export async function unpackArchive(source: Readable, kind: ArchiveKind, destDir: string, options: UnpackOptions): Promise<string> {
  if (kind === 'zip') return unpackZip(source, destDir, options);
  if (kind === 'gz' || kind === 'bz2') {
    const stripped = stripArchiveSuffix(posix.basename(options.fileName));
    // `...gz` would name the file `..`: a name that is no file's gets a plain one.
    const target = posix.join(destDir, stripped === '' || stripped === '.' || stripped === '..' ? 'contents' : stripped);
    try {
      await pipeline(source, decompressor(kind), createWriteStream(target));
    } catch (error) {
      throw unpackFailure(options.fileName, error, posix.dirname(destDir));
    }
    return target;
  }
  await unpackTar(source, kind, destDir, options);
  return destDir;
}

async function unpackTar(source: Readable, kind: 'tar' | 'tar.gz' | 'tar.bz2', destDir: string, options: UnpackOptions): Promise<void> {
  const problems: string[] = [];
  const links = new LinkEntries();
  const outsideLinks: { path: string; target: string }[] = [];
  const extract = tar.x({
    cwd: destDir,
    preservePaths: false,
    // As root, tar would give files the archive's owners by default: they belong to the server.
    preserveOwner: false,
    strict: true,
    filter: (path, entry) => {
      if (problems.length > 0 || !(entry instanceof tar.ReadEntry)) return false;
      const reason = tarEntryReason(path, entry, links);
      if (reason !== null) {
        problems.push(reason);
        return false;
      }
      // tar keeps every mode bit it is given, setuid included; only permissions are stored.
      if (entry.mode !== undefined) entry.mode &= PERMISSION_BITS;
      if (entry.type !== 'SymbolicLink' || entry.linkpath === undefined) return true;
      links.add(path);
      // tar would rewrite such a link's target; it is created untouched once all else is unpacked.
      if (!pointsOutside(path, entry.linkpath)) return true;
      outsideLinks.push({ path, target: entry.linkpath });
      return false;
    },
  });
  try {
    if (kind === 'tar') await pipeline(source, extract);
    else await pipeline(source, decompressor(kind === 'tar.gz' ? 'gz' : 'bz2'), extract);
    if (problems.length === 0) for (const link of outsideLinks) await createLinkInside(destDir, link.path, link.target);
  } catch (error) {
    if (problems.length === 0) throw unpackFailure(options.fileName, error, posix.dirname(destDir));
  }
  const [problem] = problems;
  if (problem !== undefined) throw archiveRefused(options.fileName, problem);
}

/** Why a tar entry is refused: entry-rules, plus no entry (or hard link target) below a link entry. */
function tarEntryReason(path: string, entry: tar.ReadEntry, links: LinkEntries): string | null {
  const name = pathParts(path).join('/'); // `./x` is shown as `x`
  const special = specialFileReason(name, entry.type);
  if (special !== null) return special;
  const unsafe = unsafeEntryReason(path, entry.type, entry.linkpath);
  if (unsafe !== null) return unsafe;
  const above = links.linkAbove(path);
  if (above !== null) return belowLinkReason(name, above);
  const targetAbove = entry.type === 'Link' && entry.linkpath !== undefined ? links.linkAbove(entry.linkpath) : null;
  if (targetAbove !== null) return `hard link '${name}' -> '${entry.linkpath}' passes through '${targetAbove}', which is a symbolic link`;
  return null;
}

/** createLinkBelow, its refusals refusing the archive. */
async function createLinkInside(root: string, path: string, target: string): Promise<void> {
  try {
    await createLinkBelow(root, path, target);
  } catch (error) {
    if (error instanceof LinkPlacementError) throw new EntryRefused(error.message);
    throw error;
  }
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
