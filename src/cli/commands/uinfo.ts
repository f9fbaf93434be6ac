// `cl uinfo [USER]`: a user account (yours; root may name anyone), with the number of bundles the
// user owns and the disk they use. The server decides who may see whom.
import type { Command } from 'commander';
import { formatSize } from '../../common/sizes.js';
import { bundleOpsRoutes, routes, SearchResponse, UserAccount } from '../../protocol/index.js';
import { writeJson } from '../format/json-output.js';
import { terminalText } from '../format/terminal-text.js';
import { formatDate } from '../format/values.js';
import { writeLine } from '../io.js';
import type { CliContext } from '../session.js';

export const UINFO_EXAMPLES = `
Examples:
  cl uinfo                               id, user_name, is_root, email, date_joined, last_login, bundles, disk_used
  cl uinfo -f disk_used                  one field (tab-separated for several)
  cl uinfo alice                         another user's account (root only)
--json: {"id","user_name","is_root","email","date_joined","last_login","bundles","disk_used"}
(dates in epoch milliseconds, last_login null when never; disk_used in bytes).`;

export function registerUinfo(program: Command, ctx: CliContext): void {
  program
    .command('uinfo')
    .description('Show information about your user account (root: anyone\'s).')
    .argument('[user]', 'user name (default: yours; another\'s for root only)')
    .option('-f, --field <fields>', 'print these fields, tab-separated')
    .option('--json', 'print as JSON')
    .addHelpText('after', UINFO_EXAMPLES)
    .action(async (name: string | undefined, options: { field?: string; json?: boolean }) => {
      const session = await ctx.session();
      const account = await session.api.json(routes.userByName(name ?? (await session.user()).user_name), UserAccount);
      const owner = `owner=${account.user_name}`;
      const count = await session.api.json(bundleOpsRoutes.search(), SearchResponse, { method: 'POST', json: { keywords: [owner, '.count'] } });
      const disk = await session.api.json(bundleOpsRoutes.search(), SearchResponse, { method: 'POST', json: { keywords: [owner, 'data_size=.sum'] } });
      const info = { ...account, bundles: count.result ?? 0, disk_used: disk.result ?? 0 };
      if (options.json) return writeJson(ctx.io.stdout, info);
      if (options.field !== undefined) {
        const fields = options.field.split(',').map((f) => f.trim());
        return writeLine(ctx.io.stdout, fields.map((f) => terminalText(String((info as Record<string, unknown>)[f] ?? ''))).join('\t'));
      }
      const rows: [string, string][] = [
        ['id', info.id], ['user_name', info.user_name], ['is_root', String(info.is_root)], ['email', info.email ?? ''],
        ['date_joined', formatDate(info.date_joined / 1000)],
        ['last_login', info.last_login === null ? 'never' : formatDate(info.last_login / 1000)],
        ['bundles', String(info.bundles)], ['disk_used', formatSize(info.disk_used)],
      ];
      for (const [key, value] of rows) writeLine(ctx.io.stdout, `${key.padEnd(11)} : ${terminalText(value)}`);
    });
}
