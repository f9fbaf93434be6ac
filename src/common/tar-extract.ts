// Unpacking a bundle's tar stream (a dependency on the worker, a download in the client) into a
// fresh directory that only this process writes. node-tar refuses absolute and `..` entries and
// never writes through a link it unpacked, but it would rewrite (or, strict, refuse) a link that
// points outside the bundle; such links are made afterwards exactly as stored, never followed.
import type { Stats } from 'node:fs';
import type { Writable } from 'node:stream';
import * as tar from 'tar';
import { createLinkBelow, pointsOutside } from './link-below.js';

export interface BundleTarExtraction {
  /** Pipe the tar into this, in large chunks (see coalesceChunks): it writes files in slices of them. */
  stream: Writable;
  /** Makes the links held back; call once the stream has finished. */
  finish(): Promise<void>;
}

export function extractBundleTar(dest: string): BundleTarExtraction {
  const outsideLinks: Array<{ path: string; target: string }> = [];
  const filter = (path: string, entry: tar.ReadEntry | Stats): boolean => {
    if (!(entry instanceof tar.ReadEntry) || entry.type !== 'SymbolicLink' || entry.linkpath === undefined) return true;
    if (!pointsOutside(path, entry.linkpath)) return true;
    outsideLinks.push({ path, target: entry.linkpath });
    return false;
  };
  // strict: a damaged archive is an error, not a partial copy. Owners are never taken from it.
  const stream = tar.x({ cwd: dest, strict: true, preservePaths: false, preserveOwner: false, filter }) as unknown as Writable;
  return {
    stream,
    finish: async () => {
      for (const link of outsideLinks) await createLinkBelow(dest, link.path, link.target);
    },
  };
}
