// Unpacking uploaded zip files with yauzl, entry by entry, under the same rules as tar archives
// (entry-rules.ts): zip needs random access to its central directory, so the upload is first
// streamed to a temporary file. Entries are written by an ExtractionTree, which never follows a
// link; any refused entry refuses the whole archive. Checksums and sizes are verified.
import { createWriteStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { posix } from 'node:path';
import { Transform, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { crc32 } from 'node:zlib';
import yauzl from 'yauzl';
import { ApiError } from '../../protocol/index.js';
import type { UnpackOptions } from './archive.js';
import { EntryRefused, archiveRefused, pathParts, unpackFailure, unsafeEntryReason } from './entry-rules.js';
import { ExtractionTree } from './extraction-tree.js';
import { classifyZipEntry, decodeUtf8 } from './zip-entry.js';

/** More entries than any dataset we serve; bounds the memory spent remembering what was created. */
const MAX_ZIP_ENTRIES = 1_000_000;
/** Linux's PATH_MAX less the terminating NUL: no longer link target can be created anyway. */
const MAX_LINK_TARGET_BYTES = 4095;

export async function unpackZip(source: Readable, destDir: string, options: UnpackOptions): Promise<string> {
  const temp = `${destDir}.zip`;
  try {
    await pipeline(source, createWriteStream(temp));
    // Names are decoded (strictly) below, so yauzl hands them over as raw bytes.
    const zip = await yauzl.openPromise(temp, { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true });
    try {
      await extractAll(zip, new ExtractionTree(destDir), options);
    } finally {
      zip.close();
    }
    return destDir;
  } catch (error) {
    throw unpackFailure(options.fileName, error, posix.dirname(destDir));
  } finally {
    await rm(temp, { force: true });
  }
}

async function extractAll(zip: yauzl.ZipFile, tree: ExtractionTree, options: UnpackOptions): Promise<void> {
  if (zip.entryCount > MAX_ZIP_ENTRIES) {
    throw archiveRefused(options.fileName, `it has ${zip.entryCount} entries, more than the ${MAX_ZIP_ENTRIES} a bundle may hold`);
  }
  let unpackedBytes = 0;
  for (let entry = await nextEntry(zip); entry !== null; entry = await nextEntry(zip)) {
    const kind = classifyZipEntry(entry);
    if (kind.type === 'refused') throw new EntryRefused(kind.reason);
    const parts = checkedParts(kind.path, kind.type);
    if (kind.type === 'link') {
      await tree.link(parts, await readLinkTarget(zip, entry, kind.path));
      continue;
    }
    if (parts.length === 0) continue; // `./`: the root itself
    if (kind.type === 'directory') {
      await tree.directory(parts, kind.permissions ?? 0o755);
      continue;
    }
    unpackedBytes += entry.uncompressedSize;
    if (unpackedBytes > options.maxBytes) {
      throw new ApiError('too_large', `Archive '${options.fileName}' rejected, nothing stored: it unpacks to more than the server's limit of ${options.maxBytes} bytes.`);
    }
    await tree.file(parts, kind.permissions ?? 0o644, async (out) =>
      pipeline(await zip.openReadStreamPromise(entry), checksum(entry, kind.path), out),
    );
  }
}

/** The entry's path components once entry-rules allow it (for a link, before its target is known). */
function checkedParts(path: string, type: 'file' | 'directory' | 'link'): string[] {
  const reason = unsafeEntryReason(path, type === 'link' ? 'SymbolicLink' : 'File', undefined);
  if (reason !== null) throw new EntryRefused(reason);
  return pathParts(path);
}

/** A link's target is its contents: short, valid UTF-8, and subject to the same rules as tar's. */
async function readLinkTarget(zip: yauzl.ZipFile, entry: yauzl.Entry, path: string): Promise<string> {
  if (entry.uncompressedSize > MAX_LINK_TARGET_BYTES) {
    throw new EntryRefused(`link '${path}' has a target longer than ${MAX_LINK_TARGET_BYTES} bytes`);
  }
  const chunks: Buffer[] = [];
  const collect = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  await pipeline(await zip.openReadStreamPromise(entry), checksum(entry, path), collect);
  const target = decodeUtf8(Buffer.concat(chunks));
  if (target === null) throw new EntryRefused(`link '${path}' has a target that is not valid UTF-8`);
  if (target === '') throw new EntryRefused(`link '${path}' has an empty target`);
  const reason = unsafeEntryReason(path, 'SymbolicLink', target);
  if (reason !== null) throw new EntryRefused(reason);
  return target;
}

/** Fails the stream when the entry's bytes do not match the checksum the zip file records. */
function checksum(entry: yauzl.Entry, name: string): Transform {
  let crc = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      crc = crc32(chunk, crc);
      callback(null, chunk);
    },
    flush(callback) {
      if (crc >>> 0 === entry.crc32 >>> 0) callback();
      else callback(new Error(`entry '${name}' does not match its checksum; the zip file is damaged.`));
    },
  });
}

/** The next entry of a zip opened with lazyEntries, or null at the end. */
function nextEntry(zip: yauzl.ZipFile): Promise<yauzl.Entry | null> {
  return new Promise((resolve, reject) => {
    const settle = (): void => {
      zip.off('entry', onEntry);
      zip.off('end', onEnd);
      zip.off('error', onError);
    };
    const onEntry = (entry: yauzl.Entry): void => {
      settle();
      resolve(entry);
    };
    const onEnd = (): void => {
      settle();
      resolve(null);
    };
    const onError = (error: Error): void => {
      settle();
      reject(error);
    };
    zip.on('entry', onEntry);
    zip.on('end', onEnd);
    zip.on('error', onError);
    zip.readEntry();
  });
}
