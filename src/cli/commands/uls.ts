// `cl uls [KEYWORDS]`: root lists user accounts (name, id, date joined, last login).
import type { Command } from 'commander';
import { z } from 'zod';
import { routes, UserAccount } from '../../protocol/index.js';
import { writeJson } from '../format/json-output.js';
import { formatTable } from '../format/table.js';
import { formatDate } from '../format/values.js';
import { writeLine } from '../io.js';
import type { CliContext } from '../session.js';

export const ULS_EXAMPLES = `
Examples:
  cl uls                       every user: name, id, date joined, last login
  cl uls ali                   users whose name or email contains "ali"
  cl uls .limit=10 .offset=20  a page of users
  cl uls -u                    ids only, one a line
Root only.`;

export function registerUls(program: Command, ctx: CliContext): void {
  program
    .command('uls')
    .description('List user accounts (root only).')
    .argument('[keywords...]', 'words to match in names and emails; .limit=N, .offset=N')
    .option('-u, --uuid-only', 'print only the ids, one a line')
    .option('--json', 'print as a JSON array of accounts')
    .addHelpText('after', ULS_EXAMPLES)
    .action(async (keywords: string[], options: { uuidOnly?: boolean; json?: boolean }) => {
      const session = await ctx.session();
      const users = await session.api.json(routes.users(keywords), z.array(UserAccount));
      if (options.json) return writeJson(ctx.io.stdout, users);
      if (options.uuidOnly) {
        for (const user of users) writeLine(ctx.io.stdout, user.id);
        return;
      }
      const rows = users.map((u) => [
        u.user_name + (u.is_root ? ' (root)' : ''),
        u.id,
        formatDate(u.date_joined / 1000),
        u.last_login === null ? 'never' : formatDate(u.last_login / 1000),
      ]);
      for (const line of formatTable(['name', 'id', 'date_joined', 'last_login'], rows)) writeLine(ctx.io.stdout, line);
    });
}
