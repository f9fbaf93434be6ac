// `cl ls`: the current (or -w) worksheet's bundles as a table with their ^N references.
import type { Command } from 'commander';
import { routes, WorksheetContents } from '../../protocol/index.js';
import { formatWorksheetListing } from '../format/listings.js';
import { writeJson } from '../format/json-output.js';
import { writeLine } from '../io.js';
import { worksheetFor } from '../resolve.js';
import type { CliContext } from '../session.js';

export const LS_EXAMPLES = `
Examples:
  cl ls                                  the bundles on the current worksheet
  cl ls -w exp1                          the bundles on worksheet exp1
  cl ls -u                               uuids only, oldest first (the last line is ^1)
--json: {"worksheet": {"uuid","name","title","owner_id","owner_name"}, "bundles": [Bundle...]}
(bundles oldest first, so ^1 is the last; Bundle as in 'cl info --json').`;

export function registerLs(program: Command, ctx: CliContext): void {
  program
    .command('ls')
    .description('List the bundles on the current worksheet.')
    .option('-w, --worksheet-spec <worksheet>', 'list this worksheet instead')
    .option('-u, --uuid-only', 'print only the uuids, oldest first')
    .option('--json', 'print the worksheet and its bundles as JSON')
    .addHelpText('after', LS_EXAMPLES)
    .action(async (options: { worksheetSpec?: string; uuidOnly?: boolean; json?: boolean }) => {
      const session = await ctx.session();
      const uuid = await worksheetFor(session, options.worksheetSpec);
      const contents = await session.api.json(routes.worksheetContents(uuid), WorksheetContents);
      if (options.json) return writeJson(ctx.io.stdout, contents);
      if (options.uuidOnly) {
        for (const bundle of contents.bundles) writeLine(ctx.io.stdout, bundle.uuid);
        return;
      }
      for (const line of formatWorksheetListing(contents)) writeLine(ctx.io.stdout, line);
    });
}
