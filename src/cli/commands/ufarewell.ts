// `cl ufarewell USER`: root deletes a user who owns nothing (no bundles, non-empty worksheets or
// workers); the server refuses otherwise and names what they own.
import type { Command } from 'commander';
import { z } from 'zod';
import { routes } from '../../protocol/index.js';
import { writeLine } from '../io.js';
import type { CliContext } from '../session.js';

export const UFAREWELL_EXAMPLES = `
Example:
  cl ufarewell alice           delete alice's account (root only; alice must own no bundles,
                               non-empty worksheets or workers; her empty worksheets go too)`;

export function registerUfarewell(program: Command, ctx: CliContext): void {
  program
    .command('ufarewell')
    .description('Delete a user account that owns nothing (root only).')
    .argument('<user>', 'user name')
    .addHelpText('after', UFAREWELL_EXAMPLES)
    .action(async (name: string) => {
      const session = await ctx.session();
      await session.api.json(routes.userByName(name), z.object({}), { method: 'DELETE' });
      writeLine(ctx.io.stderr, `Deleted user ${name}.`);
    });
}
