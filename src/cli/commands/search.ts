// `cl search KEYWORD...`: find bundles by name, fields, metadata, owner, dependencies, dates; with
// sorting, paging, counts and sums. The server parses the keywords and refuses what does not parse.
import type { Command } from 'commander';
import { bundleOpsRoutes, SearchResponse, type SearchRequest } from '../../protocol/index.js';
import { formatFieldValues, parseFieldList } from '../format/bundle-info.js';
import { writeJson } from '../format/json-output.js';
import { formatBundleTable } from '../format/bundle-table.js';
import { writeLine } from '../io.js';
import { worksheetFor } from '../resolve.js';
import type { CliContext } from '../session.js';

export const SEARCH_EXAMPLES = `
Keywords (all must hold):
  WORD                    uuid or name contains WORD
  KEY=VALUE               field or metadata KEY equals VALUE; % or .* are wildcards; v1,v2 = any of
  state=running,staged    type=run (bundle_type)   size=... (data_size)   owner=USER   .mine
  dependency=UUID         dependency/KEY=UUID       worksheet=NAME|UUID      .floating
  .before=DATE .after=DATE   created before/after (inclusive; 2024-05-01 or 2024-05-01T12:00)
  .limit=N .offset=N      default limit 10, a note on stderr when more exist
  FIELD=.sort FIELD=.sort-   ascending/descending (default order: newest first)   .last
  .count                  print the number of matches      FIELD=.sum   print the sum of FIELD
Examples:
  cl search mnist state=ready .limit=5
  cl search type=run owner=codalab created=.sort- -u
  cl search dependency=0x1234 -f uuid,name,state
  cl search .mine .count
Output: a table (-u: uuids one a line; -f a,b: values tab-separated; .count/.sum: the number).
--json: {"bundles": [Bundle...], "result": number|null, "limit": number|null, "more": boolean}
(Bundle as in 'cl info --json'). Unlike CodaLab, results have a default order (newest first).`;

interface SearchOptions {
  uuidOnly?: boolean;
  field?: string;
  json?: boolean;
  append?: boolean;
  worksheetSpec?: string;
}

export function registerSearch(program: Command, ctx: CliContext): void {
  program
    .command('search')
    .alias('s')
    .description('Search bundles by keywords.')
    .argument('[keywords...]', 'search keywords (see below)')
    .option('-u, --uuid-only', 'print only uuids, one a line')
    .option('-f, --field <fields>', 'print these fields, tab-separated, one line per bundle')
    .option('--json', 'print the answer as JSON')
    .option('-w, --worksheet-spec <worksheet>', 'the base worksheet (for worksheet=)')
    .addHelpText('after', SEARCH_EXAMPLES)
    .action(async (keywords: string[], options: SearchOptions) => {
      const session = await ctx.session();
      const request: SearchRequest = { keywords, worksheet: await worksheetFor(session, options.worksheetSpec) };
      const answer = await session.api.json(bundleOpsRoutes.search(), SearchResponse, { method: 'POST', json: request });
      if (options.json) {
        writeJson(ctx.io.stdout, answer);
        return;
      }
      if (answer.result !== null) {
        writeLine(ctx.io.stdout, String(answer.result));
        return;
      }
      const fields = options.field !== undefined ? parseFieldList(options.field) : undefined;
      if (options.uuidOnly) for (const bundle of answer.bundles) writeLine(ctx.io.stdout, bundle.uuid);
      else if (fields) for (const bundle of answer.bundles) writeLine(ctx.io.stdout, formatFieldValues(bundle, fields));
      else if (answer.bundles.length === 0) writeLine(ctx.io.stderr, 'No bundles match.');
      else for (const line of formatBundleTable(answer.bundles)) writeLine(ctx.io.stdout, line);
      if (answer.more) {
        writeLine(ctx.io.stderr, `Showing the first ${answer.limit ?? answer.bundles.length} matches; use .limit=N or .offset=N for more.`);
      }
    });
}
