// `cl uinfo [USER]`: a user's account with what they use and may use (time and runs at once on
// shared workers, disk). Yourself by default; root may name anyone.
import type { Command } from 'commander';
import { formatDuration, formatSize, formatTimeLimit, formatUsage } from '../../common/sizes.js';
import { routes, User, UserInfo } from '../../protocol/index.js';
import { writeJson } from '../format/json-output.js';
import { terminalText } from '../format/terminal-text.js';
import { formatDate } from '../format/values.js';
import { writeLine } from '../io.js';
import type { CliContext } from '../session.js';

export const UINFO_EXAMPLES = `
Examples:
  cl uinfo                               your account, use and quotas
  cl uinfo alice                         another user's (root only)
  cl uinfo -f disk_used,disk_quota       fields, tab-separated (sizes in bytes, times in seconds)
--json: {"id","user_name","is_root","email","date_joined","last_login","has_access","bundles",
"disk_used","disk_quota","time_used","time_quota","parallel_runs","parallel_run_quota"}; dates in
epoch milliseconds (last_login null when never); a null quota means no limit (root).
Time and parallel runs count only runs on shared workers (those root runs); disk counts every
bundle you own. Root changes quotas and access with cl uedit.`;

export function registerUinfo(program: Command, ctx: CliContext): void {
  program
    .command('uinfo')
    .description('Show a user account: use and quotas (yours unless root names another).')
    .argument('[user]', 'user name (default: you; others: root only)')
    .option('-f, --field <fields>', 'print these fields, tab-separated')
    .option('--json', 'print as JSON')
    .addHelpText('after', UINFO_EXAMPLES)
    .action(async (name: string | undefined, options: { field?: string; json?: boolean }) => {
      const session = await ctx.session();
      const userName = name ?? (await session.api.json(routes.user(), User)).user_name;
      const info = await session.api.json(routes.userInfo(userName), UserInfo);
      if (options.json) return writeJson(ctx.io.stdout, info);
      if (options.field !== undefined) {
        const fields = options.field.split(',').map((f) => f.trim());
        return writeLine(ctx.io.stdout, fields.map((f) => terminalText(String((info as Record<string, unknown>)[f] ?? ''))).join('\t'));
      }
      for (const [key, value] of describeAccount(info)) writeLine(ctx.io.stdout, `${key.padEnd(13)}: ${terminalText(value)}`);
    });
}

/** The rows `cl uinfo` prints: `time: 1h2m used / 10h (10%)` and the like. */
export function describeAccount(info: UserInfo): [string, string][] {
  return [
    ['id', info.id],
    ['user_name', info.user_name],
    ['is_root', String(info.is_root)],
    ['email', info.email ?? ''],
    ['date_joined', formatDate(info.date_joined / 1000)],
    ['last_login', info.last_login === null ? 'never' : formatDate(info.last_login / 1000)],
    ['has_access', String(info.has_access)],
    ['bundles', String(info.bundles)],
    ['time', formatUsage(info.time_used, info.time_quota, formatDuration, formatTimeLimit)],
    ['disk', formatUsage(info.disk_used, info.disk_quota, formatSize)],
    ['parallel runs', `${info.parallel_runs}${info.parallel_run_quota === null ? ', no limit' : ` of ${info.parallel_run_quota} on shared workers`}`],
  ];
}
