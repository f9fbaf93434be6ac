// `cl workers`: the workers the user can see, with their resources, last check-in and runs.
import type { Command } from 'commander';
import { z } from 'zod';
import { routes, WorkerInfo } from '../../protocol/index.js';
import { formatWorkersTable } from '../format/listings.js';
import { writeJson } from '../format/json-output.js';
import { writeLine } from '../io.js';
import type { CliContext } from '../session.js';

export const WORKERS_EXAMPLES = `
Example:
  cl workers         id, cpus used/total, gpus, memory, free disk, last check-in, tag, runs, docker`;

export function registerWorkers(program: Command, ctx: CliContext): void {
  program
    .command('workers')
    .description('List the workers you can use.')
    .option('--json', 'print the workers as a JSON array (WorkerInfo objects, as the API sends them)')
    .addHelpText('after', WORKERS_EXAMPLES)
    .action(async (options: { json?: boolean }) => {
      const session = await ctx.session();
      const workers = await session.api.json(routes.workersInfo(), z.array(WorkerInfo));
      if (options.json) return writeJson(ctx.io.stdout, workers);
      if (workers.length === 0) {
        writeLine(ctx.io.stderr, 'No workers are connected.');
        return;
      }
      for (const line of formatWorkersTable(workers, Date.now() / 1000)) writeLine(ctx.io.stdout, line);
    });
}
