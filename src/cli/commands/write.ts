// `cl write TARGET STRING`: write a small file into a running bundle (the worker does it); refused
// outside the bundle, onto a dependency, or when the bundle is not running. Prints the uuid.
import type { Command } from 'commander';
import { BundleActionResponse, routes, type WriteAction } from '../../protocol/index.js';
import { UserInputError } from '../../common/user-input-error.js';
import { writeLine } from '../io.js';
import { resolveTargetText } from '../resolve.js';
import type { CliContext } from '../session.js';

export const WRITE_EXAMPLES = `
Examples:
  cl write ^1/config.json '{"lr": 0.1}'   change a file the running command reads
  cl write run1/STOP ''                    create an empty file`;

export function registerWrite(program: Command, ctx: CliContext): void {
  program
    .command('write')
    .description('Write a string to a file of a running bundle.')
    .argument('<target>', 'SPEC/path')
    .argument('<string>', 'the new contents of the file')
    .option('-w, --worksheet-spec <worksheet>', 'resolve the spec on this worksheet')
    .addHelpText('after', WRITE_EXAMPLES)
    .action(async (text: string, contents: string, options: { worksheetSpec?: string }) => {
      const session = await ctx.session();
      const target = await resolveTargetText(session, text, options.worksheetSpec);
      if (target.subpath === '') throw new UserInputError(`Name a file inside the bundle: ${text}/PATH.`);
      const action: WriteAction = { type: 'write', uuid: target.uuid, subpath: target.subpath, string: contents };
      await session.api.json(routes.bundleActions(), BundleActionResponse, { method: 'POST', json: action, timeoutMs: 60_000 });
      writeLine(ctx.io.stdout, target.uuid);
    });
}
