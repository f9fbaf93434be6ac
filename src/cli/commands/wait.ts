// `cl wait TARGET`: block until the bundle is final; print its uuid, exit 0 only when it is ready.
import type { Command } from 'commander';
import { describeUnsuccessful, followRun, LiveOutputSource, waitUntilFinal } from '../bundle-watch.js';
import { writeLine } from '../io.js';
import { resolveTargetText } from '../resolve.js';
import type { CliContext } from '../session.js';

export const WAIT_EXAMPLES = `
Examples:
  cl wait ^1 && cl cat ^1/stdout         wait for the newest run, then read its output
  cl wait run1 --tail                    print run1's output when it ends`;

export function registerWait(program: Command, ctx: CliContext): void {
  program
    .command('wait')
    .description('Wait until a bundle is ready, failed or killed; exit 0 only if ready.')
    .argument('<target>', 'bundle spec')
    .option('-t, --tail', 'print the output of the run')
    .option('-w, --worksheet-spec <worksheet>', 'resolve the spec on this worksheet')
    .addHelpText('after', WAIT_EXAMPLES)
    .action(async (text: string, options: { tail?: boolean; worksheetSpec?: string }) => {
      const session = await ctx.session();
      const { uuid } = await resolveTargetText(session, text, options.worksheetSpec);
      const final = options.tail
        ? await followRun(session.api, uuid, new LiveOutputSource(session.api, ctx.io))
        : await waitUntilFinal(session.api, uuid);
      writeLine(ctx.io.stdout, uuid);
      if (final.state !== 'ready') {
        writeLine(ctx.io.stderr, describeUnsuccessful(final));
        ctx.exitCode = 1;
      }
    });
}
