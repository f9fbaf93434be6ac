// The stream of a run's results: a plain (uncompressed) tar of its directory, read from disk as
// it is sent and never held in memory, leaving out what upload-exclusion says. It walks the run
// dir through held directories (fs/tree-tar), so even a run whose processes were still alive
// could not lead it out of its directory; links are kept as links, never followed. A run with a
// disk request uploads at most that many stream bytes: stdout and stderr first, then whatever
// else fits whole (the server refuses an upload much beyond the request).
import { packTree, packTreeWithinBudget, type BudgetedTree } from '../fs/tree-tar.js';
import { emptyReport } from '../fs/tar-budget.js';
import { isExcluded, type ExclusionRules } from './upload-exclusion.js';

const OUTPUT_FILES = ['stdout', 'stderr'] as const;

/** `diskBytes` is the run's disk request; 0 means none, and nothing is left out for size. */
export function createResultsTar(runDir: string, rules: ExclusionRules, diskBytes: number): BudgetedTree {
  return packWithin(runDir, diskBytes, (relative) => isExcluded(relative, rules));
}

/** Only stdout and stderr of a run (what a killed run keeps when its full upload is cut off). */
export function createOutputTar(runDir: string, diskBytes: number): BudgetedTree {
  const keep = new Set<string>(OUTPUT_FILES);
  return packWithin(runDir, diskBytes, (relative) => !keep.has(relative));
}

function packWithin(runDir: string, diskBytes: number, exclude: (relative: string) => boolean): BudgetedTree {
  if (diskBytes <= 0) return { stream: packTree(runDir, { exclude }), report: emptyReport() };
  return packTreeWithinBudget(runDir, { maxBytes: diskBytes, first: OUTPUT_FILES }, { exclude });
}
