// `cl local status|start|stop`: the embedded local instance (DESIGN.md section 2), which cl
// otherwise starts on first use and leaves running. These commands never change which server is
// selected; after a stop, the next command that uses the local instance starts it again.
import type { Command } from 'commander';
import { terminalText } from '../format/terminal-text.js';
import { writeLine } from '../io.js';
import { ensureLocalInstance, findLocalInstance, stopLocalInstance, type LocalInstance } from '../local-instance.js';
import type { CliContext } from '../session.js';

export const LOCAL_EXAMPLES = `
Examples:
  cl local status        whether the local server runs: its pid, address, data and log
  cl local stop          stop it (and the runs in progress on its worker)
  cl local start         start it now; does nothing when it already runs
Any other command that uses the local instance starts it when it is not running.`;

const NOT_RUNNING = 'The local server is not running.';

export function registerLocal(program: Command, ctx: CliContext): void {
  const local = program
    .command('local')
    .description('Show, start or stop the local server (the default instance, with its worker).')
    .addHelpText('after', LOCAL_EXAMPLES);
  local
    .command('status')
    .description('Show whether the local server is running, and where.')
    .action(async () => {
      const running = await findLocalInstance(ctx.config.home);
      writeLine(ctx.io.stdout, running ? describeRunning(running) : NOT_RUNNING);
    });
  local
    .command('start')
    .description('Start the local server unless it is running.')
    .action(async () => {
      const running = await ensureLocalInstance(ctx.config, (line) => writeLine(ctx.io.stderr, line));
      writeLine(ctx.io.stdout, describeRunning(running));
    });
  local
    .command('stop')
    .description('Stop the local server: SIGTERM, and SIGKILL if it has not exited within a minute.')
    .action(async () => {
      const stopped = await stopLocalInstance(ctx.config.home);
      if (!stopped) return writeLine(ctx.io.stdout, NOT_RUNNING);
      const how = stopped.killed ? ' with SIGKILL: it did not exit within a minute of SIGTERM' : '';
      writeLine(ctx.io.stdout, `Stopped the local server (pid ${stopped.pid})${how}.`);
    });
}

function describeRunning(local: LocalInstance): string {
  return terminalText(`The local server is running: pid ${local.pid} at ${local.url} (data in ${local.paths.serverHome}, log ${local.paths.logFile})`);
}
