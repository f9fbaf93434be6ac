// `cl logout`: forget the cached token of the current instance (the next command logs in again).
import type { Command } from 'commander';
import { writeLine } from '../io.js';
import type { CliContext } from '../session.js';

export const LOGOUT_EXAMPLES = `
Example:
  cl logout          forget the token for the current server`;

export function registerLogout(program: Command, ctx: CliContext): void {
  program
    .command('logout')
    .description('Forget the login token for the current server.')
    .addHelpText('after', LOGOUT_EXAMPLES)
    .action(() => {
      const instance = ctx.state.currentInstance();
      const had = ctx.state.forgetToken(instance);
      writeLine(ctx.io.stderr, had ? `Logged out of ${instance}.` : `Not logged in to ${instance}.`);
    });
}
