// `cl unew NAME`: root creates a user account. The password is prompted for, or read from a file
// or stdin; never from an argument.
import type { Command } from 'commander';
import { routes, UserAccount } from '../../protocol/index.js';
import { writeLine } from '../io.js';
import { PASSWORD_FILE_HELP, PASSWORD_STDIN_HELP, readPasswords, type PasswordSourceOptions } from '../password-input.js';
import type { CliContext } from '../session.js';

export const UNEW_EXAMPLES = `
Examples:
  cl unew alice                              asks for alice's password (twice)
  cl unew alice --email a@example.org --password-file pw.txt
  printf '%s\\n' "$PW" | cl unew alice --password-stdin
Prints the new user's id on stdout. Root only. Passwords have at least 8 characters.`;

export function registerUnew(program: Command, ctx: CliContext): void {
  program
    .command('unew')
    .description('Create a user account (root only).')
    .argument('<name>', 'user name: letters, digits, _ . -')
    .option('--email <email>', 'the user\'s email address')
    .option('--password-file <file>', PASSWORD_FILE_HELP)
    .option('--password-stdin', PASSWORD_STDIN_HELP)
    .addHelpText('after', UNEW_EXAMPLES)
    .action(async (name: string, options: PasswordSourceOptions & { email?: string }) => {
      const session = await ctx.session();
      const [password] = await readPasswords(ctx.io, options, [`Password for ${name}: `], true);
      const body = { user_name: name, password: password ?? '', ...(options.email !== undefined ? { email: options.email } : {}) };
      const user = await session.api.json(routes.users(), UserAccount, { method: 'POST', json: body });
      writeLine(ctx.io.stdout, user.id);
      writeLine(ctx.io.stderr, `Created user ${user.user_name}.`);
    });
}
