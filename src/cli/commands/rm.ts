// `cl rm SPEC...`: delete bundles. The server checks everything first (dependents, active states,
// several worksheets, frozen) and refuses with the reason, changing nothing; prints the deleted uuids.
import type { Command } from 'commander';
import { bundleOpsRoutes, DeleteBundlesResponse, type DeleteBundlesRequest } from '../../protocol/index.js';
import { writeLine } from '../io.js';
import { resolveManyTargets } from '../resolve-many.js';
import type { CliContext } from '../session.js';

export const RM_EXAMPLES = `
Examples:
  cl rm ^1                               delete the newest bundle on the worksheet
  cl rm ^2-4                             delete ^2, ^3 and ^4
  cl rm -r corpus                        delete corpus and every bundle that depends on it
  cl rm --dry-run -r corpus              print what -r would delete, delete nothing
  cl rm -d big-run                       delete the contents only, keep the metadata
Refused (nothing deleted) when another bundle depends on one of them (use -r or --force), when
one is making/starting/preparing/running/finalizing (kill it first), when one is on several
worksheets (use --force or cl detach), or when one is frozen (cl edit SPEC --unfreeze first).
Prints the uuids deleted, one a line.`;

interface RmOptions {
  force?: boolean;
  recursive?: boolean;
  dataOnly?: boolean;
  dryRun?: boolean;
  worksheetSpec?: string;
}

export function registerRm(program: Command, ctx: CliContext): void {
  program
    .command('rm')
    .description('Delete bundles (metadata and contents) permanently.')
    .argument('<specs...>', 'bundle specs (ranges such as ^1-3 allowed)')
    .option('--force', 'delete even if other bundles depend on them or they are on several worksheets')
    .option('-r, --recursive', 'also delete every bundle that depends on them')
    .option('-d, --data-only', 'delete only the contents; keep the metadata (data_size becomes 0)')
    .option('-i, --dry-run', 'print what would be deleted; delete nothing')
    .option('-w, --worksheet-spec <worksheet>', 'resolve specs on this worksheet')
    .addHelpText('after', RM_EXAMPLES)
    .action(async (specs: string[], options: RmOptions) => {
      const session = await ctx.session();
      const targets = await resolveManyTargets(session, specs, options.worksheetSpec);
      const request: DeleteBundlesRequest = {
        uuids: [...new Set(targets.map((t) => t.uuid))],
        force: options.force === true,
        recursive: options.recursive === true,
        data_only: options.dataOnly === true,
        dry_run: options.dryRun === true,
      };
      const { uuids } = await session.api.json(bundleOpsRoutes.deleteBundles(), DeleteBundlesResponse, { method: 'POST', json: request });
      if (options.dryRun) writeLine(ctx.io.stderr, `Dry run: would delete ${uuids.length} bundle(s)${options.dataOnly ? ' (contents only)' : ''}:`);
      for (const uuid of uuids) writeLine(ctx.io.stdout, uuid);
    });
}
