// The stream of a run's results: a plain (uncompressed) tar of its directory, read from disk as
// it is sent and never held in memory, leaving out what upload-exclusion says. Symlinks are kept
// as links, never followed.
import { Readable } from 'node:stream';
import * as tar from 'tar';
import { isExcluded, type ExclusionRules } from './upload-exclusion.js';

export function createResultsTar(runDir: string, rules: ExclusionRules): Readable {
  const stream = tar.c(
    {
      cwd: runDir,
      portable: true,
      follow: false,
      filter: (entryPath: string) => !isExcluded(entryPath, rules),
    },
    ['.'],
  );
  // node-tar gives a Minipass stream; fetch needs a real Readable.
  return Readable.from(stream);
}

/** Only stdout and stderr of a run (what a killed run keeps when its full upload is cut off). */
export function createOutputTar(runDir: string): Readable {
  const keep = new Set(['.', 'stdout', 'stderr']);
  const stream = tar.c(
    { cwd: runDir, portable: true, follow: false, filter: (entryPath: string) => keep.has(entryPath.replace(/^\.\//, '')) },
    ['.'],
  );
  return Readable.from(stream);
}
