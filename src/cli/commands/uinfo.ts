// `cl uinfo`: the logged-in user, with the number of bundles they own and the disk they use.
import type { Command } from 'commander';
import { UserInputError } from '../../common/user-input-error.js';
import { formatSize } from '../../common/sizes.js';
import { bundleOpsRoutes, routes, SearchResponse, User } from '../../protocol/index.js';
import { writeJson } from '../format/json-output.js';
import { terminalText } from '../format/terminal-text.js';
import { writeLine } from '../io.js';
import type { CliContext } from '../session.js';

export const UINFO_EXAMPLES = `
Examples:
  cl uinfo                               id, user_name, is_root, bundles, disk_used
  cl uinfo -f disk_used                  one field (tab-separated for several)
--json: {"id","user_name","is_root","bundles","disk_used"} (disk_used in bytes).
Only your own account can be shown (there are no per-user quotas yet).`;

export function registerUinfo(program: Command, ctx: CliContext): void {
  program
    .command('uinfo')
    .description('Show information about your user account.')
    .argument('[user]', 'user name (only your own)')
    .option('-f, --field <fields>', 'print these fields, tab-separated')
    .option('--json', 'print as JSON')
    .addHelpText('after', UINFO_EXAMPLES)
    .action(async (name: string | undefined, options: { field?: string; json?: boolean }) => {
      const session = await ctx.session();
      const user = await session.api.json(routes.user(), User);
      if (name !== undefined && name !== user.user_name) throw new UserInputError(`You can only see your own account (${user.user_name}), not '${name}'.`);
      const count = await session.api.json(bundleOpsRoutes.search(), SearchResponse, { method: 'POST', json: { keywords: ['.mine', '.count'] } });
      const disk = await session.api.json(bundleOpsRoutes.search(), SearchResponse, { method: 'POST', json: { keywords: ['.mine', 'data_size=.sum'] } });
      const info = { ...user, bundles: count.result ?? 0, disk_used: disk.result ?? 0 };
      if (options.json) return writeJson(ctx.io.stdout, info);
      if (options.field !== undefined) {
        const fields = options.field.split(',').map((f) => f.trim());
        return writeLine(ctx.io.stdout, fields.map((f) => terminalText(String((info as Record<string, unknown>)[f] ?? ''))).join('\t'));
      }
      const rows: [string, string][] = [
        ['id', info.id], ['user_name', info.user_name], ['is_root', String(info.is_root)],
        ['bundles', String(info.bundles)], ['disk_used', formatSize(info.disk_used)],
      ];
      for (const [key, value] of rows) writeLine(ctx.io.stdout, `${key.padEnd(9)} : ${terminalText(value)}`);
    });
}
