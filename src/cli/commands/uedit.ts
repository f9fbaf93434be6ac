// `cl uedit USER`: root changes a user's quotas and access. Removing access disables the account at
// once: logins are refused and every token of the user is revoked.
import type { Command } from 'commander';
import { parseDuration, parseSize } from '../../common/sizes.js';
import { UserInputError } from '../../common/user-input-error.js';
import { routes, UserInfo, type EditUserRequest } from '../../protocol/index.js';
import { writeLine } from '../io.js';
import type { CliContext } from '../session.js';
import { describeAccount } from './uinfo.js';

export const UEDIT_EXAMPLES = `
Examples:
  cl uedit alice -t 10h -d 50g -p 3      time (shared workers), disk and runs-at-once quotas
  cl uedit alice --remove-access         disable the account: logins refused, tokens revoked
  cl uedit alice --grant-access          enable it again
Root only. Prints the account as cl uinfo does.`;

interface UeditOptions {
  timeQuota?: string;
  diskQuota?: string;
  parallelRunQuota?: string;
  grantAccess?: boolean;
  removeAccess?: boolean;
}

export function registerUedit(program: Command, ctx: CliContext): void {
  program
    .command('uedit')
    .description("Change a user's quotas or access (root only).")
    .argument('<user>', 'user name')
    .option('-t, --time-quota <duration>', 'run time on shared workers, e.g. 10h or 1y')
    .option('-d, --disk-quota <size>', 'bundle contents the user may own, e.g. 50g')
    .option('-p, --parallel-run-quota <n>', 'runs at once on shared workers')
    .option('--grant-access', 'enable the account')
    .option('--remove-access', 'disable the account: refuse logins, revoke its tokens')
    .addHelpText('after', UEDIT_EXAMPLES)
    .action(async (name: string, options: UeditOptions) => {
      const request = toRequest(options);
      const session = await ctx.session();
      const info = await session.api.json(routes.userInfo(name), UserInfo, { method: 'PATCH', json: request });
      for (const [key, value] of describeAccount(info)) writeLine(ctx.io.stdout, `${key.padEnd(13)}: ${value}`);
    });
}

function toRequest(o: UeditOptions): EditUserRequest {
  if (o.grantAccess && o.removeAccess) throw new UserInputError('Use --grant-access or --remove-access, not both.');
  const request: EditUserRequest = {};
  if (o.timeQuota !== undefined) request.time_quota = parseDuration(o.timeQuota);
  if (o.diskQuota !== undefined) request.disk_quota = parseSize(o.diskQuota);
  if (o.parallelRunQuota !== undefined) {
    if (!/^\d+$/.test(o.parallelRunQuota.trim())) throw new UserInputError(`Invalid parallel-run quota '${o.parallelRunQuota}': expected a whole number, 0 or more.`);
    request.parallel_run_quota = Number(o.parallelRunQuota);
  }
  if (o.grantAccess) request.has_access = true;
  if (o.removeAccess) request.has_access = false;
  if (Object.keys(request).length === 0) {
    throw new UserInputError('Nothing to change: give -t, -d, -p, --grant-access or --remove-access (cl help uedit).');
  }
  return request;
}
