// `cl ls`: the current (or -w) worksheet's bundles as a table with their ^N references.
import type { Command } from 'commander';
import { routes, WorksheetContents } from '../../protocol/index.js';
import { formatWorksheetListing } from '../format/listings.js';
import { writeLine } from '../io.js';
import { worksheetFor } from '../resolve.js';
import type { CliContext } from '../session.js';

export const LS_EXAMPLES = `
Examples:
  cl ls                                  the bundles on the current worksheet
  cl ls -w exp1                          the bundles on worksheet exp1`;

export function registerLs(program: Command, ctx: CliContext): void {
  program
    .command('ls')
    .description('List the bundles on the current worksheet.')
    .option('-w, --worksheet-spec <worksheet>', 'list this worksheet instead')
    .addHelpText('after', LS_EXAMPLES)
    .action(async (options: { worksheetSpec?: string }) => {
      const session = await ctx.session();
      const uuid = await worksheetFor(session, options.worksheetSpec);
      const contents = await session.api.json(routes.worksheetContents(uuid), WorksheetContents);
      for (const line of formatWorksheetListing(contents)) writeLine(ctx.io.stdout, line);
    });
}
