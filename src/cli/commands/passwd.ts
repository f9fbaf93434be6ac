// `cl passwd [USER]`: change your own password (with the old one), or, as root, reset another
// user's (without). The server then ends every session of that user; your own is renewed here
// with the new password, so this client stays logged in.
import type { Command } from 'commander';
import { z } from 'zod';
import { routes } from '../../protocol/index.js';
import { writeLine } from '../io.js';
import { PASSWORD_FILE_HELP, readPasswords, type PasswordSourceOptions } from '../password-input.js';
import type { CliContext } from '../session.js';

export const PASSWD_EXAMPLES = `
Examples:
  cl passwd                              asks for your old password, then the new one (twice)
  printf '%s\\n%s\\n' "$OLD" "$NEW" | cl passwd --password-stdin
  cl passwd alice                        root: reset alice's password (asks only the new one)
Every session of that user ends (other clients, workers: they must log in again).`;

export function registerPasswd(program: Command, ctx: CliContext): void {
  program
    .command('passwd')
    .description('Change your password, or (root) reset another user\'s.')
    .argument('[user]', 'whose password (root only; default: yours)')
    .option('--password-stdin', 'read the passwords from standard input: old then new, one a line (new only for root resetting another)')
    .option('--password-file <file>', `${PASSWORD_FILE_HELP} (old then new, one a line, as for --password-stdin)`)
    .addHelpText('after', PASSWD_EXAMPLES)
    .action(async (name: string | undefined, options: PasswordSourceOptions) => {
      const session = await ctx.session();
      const me = await session.user();
      const target = name ?? me.user_name;
      const isOwn = target === me.user_name;
      const questions = isOwn ? ['Current password: ', 'New password: '] : [`New password for ${target}: `];
      const answers = await readPasswords(ctx.io, options, questions, true);
      const body = isOwn ? { old_password: answers[0] ?? '', new_password: answers[1] ?? '' } : { new_password: answers[0] ?? '' };
      await session.api.json(routes.userPassword(target), z.object({}), { method: 'POST', json: body });
      if (isOwn) {
        await session.tokens.loginWith({ username: me.user_name, password: body.new_password });
        writeLine(ctx.io.stderr, 'Password changed; your other sessions must log in again.');
      } else {
        writeLine(ctx.io.stderr, `Password of ${target} reset; their sessions must log in again.`);
      }
    });
}
