// `cl wait TARGET`: block until the bundle is final; print its uuid, exit 0 only when it is ready.
import type { Command } from 'commander';
import { waitForRun } from '../bundle-watch.js';
import { writeLine } from '../io.js';
import { resolveTargetText } from '../resolve.js';
import type { CliContext } from '../session.js';

export const WAIT_EXAMPLES = `
Examples:
  cl wait ^1 && cl cat ^1/stdout         wait for the newest run, then read its output
  cl wait run1 --tail                    print run1's output as it comes, then its final state
                                         (and failure message) on stderr
Prints the uuid on stdout; exits 0 only when the bundle is ready.`;

export function registerWait(program: Command, ctx: CliContext): void {
  program
    .command('wait')
    .description('Wait until a bundle is ready, failed or killed; exit 0 only if ready.')
    .argument('<target>', 'bundle spec')
    .option('-t, --tail', 'print the output of the run, then its final state on stderr')
    .option('-w, --worksheet-spec <worksheet>', 'resolve the spec on this worksheet')
    .addHelpText('after', WAIT_EXAMPLES)
    .action(async (text: string, options: { tail?: boolean; worksheetSpec?: string }) => {
      const session = await ctx.session();
      const { uuid } = await resolveTargetText(session, text, options.worksheetSpec);
      const final = await waitForRun(session.api, ctx.io, uuid, options.tail === true);
      writeLine(ctx.io.stdout, uuid);
      if (final.state !== 'ready') ctx.exitCode = 1;
    });
}
