// `cl detach SPEC... [-n INDEX]`: remove bundles from the worksheet without deleting them.
import type { Command } from 'commander';
import { UserInputError } from '../../common/user-input-error.js';
import { bundleOpsRoutes, DetachResponse } from '../../protocol/index.js';
import { writeLine } from '../io.js';
import { resolveManyTargets } from '../resolve-many.js';
import { worksheetFor } from '../resolve.js';
import type { CliContext } from '../session.js';

export const DETACH_EXAMPLES = `
Examples:
  cl detach ^1                           take the newest bundle off the current worksheet
  cl detach ^1-3 -w exp1                 three bundles off worksheet exp1
  cl detach data -n 1                    only the newest occurrence of data when it is there twice
The bundles are kept (find them with cl search). Prints each uuid detached.`;

export function registerDetach(program: Command, ctx: CliContext): void {
  program
    .command('detach')
    .alias('de')
    .description('Remove bundles from a worksheet without deleting them.')
    .argument('<specs...>', 'bundle specs (ranges such as ^1-3 allowed)')
    .option('-n, --index <n>', 'only the Nth occurrence from the end (1 = newest)')
    .option('-w, --worksheet-spec <worksheet>', 'the worksheet (default: the current one)')
    .addHelpText('after', DETACH_EXAMPLES)
    .action(async (specs: string[], options: { index?: string; worksheetSpec?: string }) => {
      const index = options.index === undefined ? undefined : Number(options.index);
      if (index !== undefined && (!Number.isInteger(index) || index < 1)) {
        throw new UserInputError(`Invalid -n '${options.index}': expected a whole number from 1.`);
      }
      const session = await ctx.session();
      const worksheet = await worksheetFor(session, options.worksheetSpec);
      const targets = await resolveManyTargets(session, specs, options.worksheetSpec);
      for (const uuid of new Set(targets.map((t) => t.uuid))) {
        await session.api.json(bundleOpsRoutes.detach(worksheet, uuid, index), DetachResponse, { method: 'DELETE' });
        writeLine(ctx.io.stdout, uuid);
      }
    });
}
