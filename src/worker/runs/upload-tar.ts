// The stream of a run's results: a plain (uncompressed) tar of its directory, read from disk as
// it is sent and never held in memory, leaving out what upload-exclusion says. It walks the run
// dir through held directories (fs/tree-tar), so even a run whose processes were still alive
// could not lead it out of its directory; links are kept as links, never followed.
import type { Readable } from 'node:stream';
import { packTree } from '../fs/tree-tar.js';
import { isExcluded, type ExclusionRules } from './upload-exclusion.js';

export function createResultsTar(runDir: string, rules: ExclusionRules): Readable {
  return packTree(runDir, { exclude: (relative) => isExcluded(relative, rules) });
}

/** Only stdout and stderr of a run (what a killed run keeps when its full upload is cut off). */
export function createOutputTar(runDir: string): Readable {
  const keep = new Set(['stdout', 'stderr']);
  return packTree(runDir, { exclude: (relative) => !keep.has(relative) });
}
