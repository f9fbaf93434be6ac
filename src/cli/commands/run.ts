// `cl run [KEY:]TARGET... [---] COMMAND`: create a run bundle. Arguments and flags are checked
// (run-args.ts) before anything is created; dependencies are resolved to uuids; the uuid is printed
// alone on stdout. -W waits for the end, -t follows the output; both exit 1 unless the run is ready.
import { Command, Option } from 'commander';
import { ApiError, Bundle, routes, type CreateBundleRequest, type Dependency } from '../../protocol/index.js';
import { waitForRun } from '../bundle-watch.js';
import { writeLine } from '../io.js';
import { resolveTarget, worksheetFor } from '../resolve.js';
import { planRun, type RunFlags } from '../run-args.js';
import { createOrReuseRun } from '../run-memoize.js';
import type { CliContext } from '../session.js';

export const RUN_EXAMPLES = `
Examples:
  cl run 'echo hello'                                  a run with no dependencies
  cl run data:corpus 'wc -l data/*'                    mount bundle corpus at ./data
  cl run :code :data 'python code/train.py data'       keys default to the spec
  cl run 'python %code%/sort.py < %data%/lines.txt'    %spec% adds dependencies inline
  cl run --request-memory 4g --request-gpus 1 --request-queue tag=gpu 'nvidia-smi'
  cl run :data --- python train.py --epochs 3          after ---, the words are the command
  cl run 'make test' --tail                            follow the output, then print the final
                                                       state (and failure message) on stderr
  cl run -m :data 'python train.py'                    reuse an identical ready run of yours
--memoize reuses only a READY run with the same command and the same (key, bundle) pairs; unlike
CodaLab, a failed, killed or unfinished run is never reused. The reused run is added to the
worksheet and its uuid printed.`;

interface RunOptions extends RunFlags {
  memoize?: boolean;
  wait?: boolean;
  tail?: boolean;
  worksheetSpec?: string;
}

export function registerRun(program: Command, ctx: CliContext, commandWords: () => string[] | undefined): void {
  program
    .command('run')
    .description('Create a run bundle: a shell command with dependencies on other bundles.')
    .argument('[args...]', '[KEY:]TARGET... COMMAND  (or [KEY:]TARGET... --- COMMAND WORDS)')
    .option('-n, --name <name>', 'bundle name (default: run-<first word of the command>)')
    .option('-d, --description <text>', 'bundle description')
    .option('--tags <tags...>', 'bundle tags')
    .option('--request-docker-image <image>', 'Docker image to run in')
    .option('--request-memory <size>', 'memory limit, e.g. 4g')
    .option('--request-cpus <n>', 'CPU cores')
    .option('--request-gpus <n>', 'GPUs')
    .option('--request-time <duration>', 'time limit, e.g. 90m')
    .option('--request-disk <size>', 'disk limit for the run directory, e.g. 10g')
    .option('--request-queue <tag>', "run only on workers with this tag ('tag=' prefix allowed)")
    .option('--request-priority <n>', "order among the user's staged runs (higher first)")
    .addOption(new Option('--request-network [bool]', 'allow network access (true or false)'))
    .option('--exclude-patterns <patterns...>', 'files to leave out of the results')
    .option('--allow-failed-dependencies', 'run even if parents failed or were killed, on what they left')
    .option('-w, --worksheet-spec <worksheet>', 'add the bundle to this worksheet')
    .option('-m, --memoize', 'reuse your newest ready run with the same command and dependencies, if any')
    .option('-W, --wait', 'wait until the run ends')
    .option('-t, --tail', 'print the output until the run ends, then its final state on stderr')
    .addHelpText('after', RUN_EXAMPLES)
    .action(async (args: string[], options: RunOptions) => runRun(ctx, args, commandWords(), options));
}

async function runRun(ctx: CliContext, args: string[], commandWords: string[] | undefined, options: RunOptions): Promise<void> {
  const plan = planRun(args, commandWords, options);
  const session = await ctx.session();
  // The common `cl run CMD` into the current worksheet sends one request, not a check first.
  const unchecked = plan.dependencies.length === 0 && !options.memoize && !options.worksheetSpec ? session.savedWorksheet() : undefined;
  const worksheet = unchecked ?? (await worksheetFor(session, options.worksheetSpec));
  const dependencies: Dependency[] = [];
  for (const dep of plan.dependencies) {
    const resolved = await resolveTarget(session, dep.target, options.worksheetSpec);
    dependencies.push({ child_path: dep.key, parent_uuid: resolved.uuid, parent_path: resolved.subpath });
  }
  const request: CreateBundleRequest = { bundle_type: 'run', command: plan.command, metadata: plan.metadata, dependencies };
  const bundle = options.memoize
    ? await createOrReuseRun(session, worksheet, request, ctx.io)
    : await session.api.json(routes.createBundle(worksheet), Bundle, { method: 'POST', json: request }).catch(async (error: unknown) => {
        // A deleted current worksheet is reported as every other command reports it.
        if (unchecked !== undefined && error instanceof ApiError && error.code === 'not_found') await session.currentWorksheet();
        throw error;
      });
  writeLine(ctx.io.stdout, bundle.uuid);
  if (!options.tail && !options.wait) return;
  const final = await waitForRun(session.api, ctx.io, bundle.uuid, options.tail === true);
  if (final.state !== 'ready') ctx.exitCode = 1;
}
