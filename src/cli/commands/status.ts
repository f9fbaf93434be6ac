// `cl status`: where this client points (address, user, worksheet), and for the local instance
// which process serves it and where its log is.
import type { Command } from 'commander';
import { terminalText } from '../format/terminal-text.js';
import { writeLine } from '../io.js';
import { DeletedWorksheetError, describeWorksheet, PICK_WORKSHEET_HINT, type CliContext, type Session } from '../session.js';
import { describeAddress } from './work.js';

export const STATUS_EXAMPLES = `
Example:
  cl status          prints codalab_home, address, user and worksheet`;

export function registerStatus(program: Command, ctx: CliContext): void {
  program
    .command('status')
    .alias('st')
    .description('Show the server address, user and current worksheet.')
    .addHelpText('after', STATUS_EXAMPLES)
    .action(async () => runStatus(ctx));
}

async function runStatus(ctx: CliContext): Promise<void> {
  const out = (key: string, value: string): void => writeLine(ctx.io.stdout, `${`${key}:`.padEnd(14)}${terminalText(value)}`);
  out('codalab_home', ctx.config.home);
  const session = await ctx.session();
  out('address', describeAddress(session));
  if (session.local) {
    out('local_server', `pid ${session.local.pid}, data in ${session.local.paths.serverHome}`);
    out('server_log', session.local.paths.logFile);
  }
  const user = await session.user();
  out('user', `${user.user_name}${user.is_root ? ' (root)' : ''}`);
  out('worksheet', await describeCurrentWorksheet(session));
}

/** Status reports a deleted current worksheet (and how to leave it) instead of failing. */
async function describeCurrentWorksheet(session: Session): Promise<string> {
  try {
    const worksheet = await session.currentWorksheetInfo();
    return `${worksheet.name} (${worksheet.uuid})`;
  } catch (error) {
    if (!(error instanceof DeletedWorksheetError)) throw error;
    return `${describeWorksheet(error.uuid, error.worksheetName)}, deleted: ${PICK_WORKSHEET_HINT}`;
  }
}
