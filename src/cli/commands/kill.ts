// `cl kill SPEC...`: ask the server to kill each bundle; prints each uuid once the server accepted.
import type { Command } from 'commander';
import { BundleActionResponse, routes, type BundleAction } from '../../protocol/index.js';
import { expandSpecRanges } from '../../common/spec-ranges.js';
import { writeLine } from '../io.js';
import { resolveTargetText } from '../resolve.js';
import type { CliContext } from '../session.js';

export const KILL_EXAMPLES = `
Examples:
  cl kill ^1                             kill the newest run
  cl kill run1 run2                      kill two runs`;

export function registerKill(program: Command, ctx: CliContext): void {
  program
    .command('kill')
    .description('Kill running (or waiting) run bundles.')
    .argument('<specs...>', 'bundle specs')
    .option('-w, --worksheet-spec <worksheet>', 'resolve specs on this worksheet')
    .addHelpText('after', KILL_EXAMPLES)
    .action(async (specs: string[], options: { worksheetSpec?: string }) => {
      const session = await ctx.session();
      for (const spec of expandSpecRanges(specs)) {
        const { uuid } = await resolveTargetText(session, spec, options.worksheetSpec);
        const action: BundleAction = { type: 'kill', uuid };
        await session.api.json(routes.bundleActions(), BundleActionResponse, { method: 'POST', json: action });
        writeLine(ctx.io.stdout, uuid);
      }
    });
}
