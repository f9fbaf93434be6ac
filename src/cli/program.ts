// Builds the commander program: global settings (output streams, errors reported by main rather
// than by commander's process.exit) and one registration per command file.
import { Command } from 'commander';
import { PRODUCT_VERSION } from '../protocol/index.js';
import { registerCat } from './commands/cat.js';
import { HELP_FOOTER, registerHelp } from './commands/help.js';
import { registerInfo } from './commands/info.js';
import { registerKill } from './commands/kill.js';
import { registerLogout } from './commands/logout.js';
import { registerLs } from './commands/ls.js';
import { registerRun } from './commands/run.js';
import { registerStatus } from './commands/status.js';
import { registerUpload } from './commands/upload.js';
import { registerWait } from './commands/wait.js';
import { registerWork } from './commands/work.js';
import { registerWorkers } from './commands/workers.js';
import type { CliContext } from './session.js';

export function buildProgram(ctx: CliContext, runCommandWords: () => string[] | undefined): Command {
  const program = new Command('cl');
  program
    .description('CodaLab client: upload bundles, run commands on workers, inspect results.')
    .version(PRODUCT_VERSION, '--version', 'print the version')
    .helpCommand(false)
    .exitOverride()
    .showSuggestionAfterError(true)
    .configureOutput({
      writeOut: (text) => ctx.io.stdout.write(text),
      writeErr: (text) => ctx.io.stderr.write(text),
      outputError: (text, write) => write(`cl: ${text.replace(/^error: /, '').trimEnd()}\n`),
    })
    .addHelpText('after', HELP_FOOTER);
  registerWork(program, ctx);
  registerStatus(program, ctx);
  registerLogout(program, ctx);
  registerUpload(program, ctx);
  registerRun(program, ctx, runCommandWords);
  registerInfo(program, ctx);
  registerCat(program, ctx);
  registerLs(program, ctx);
  registerWait(program, ctx);
  registerKill(program, ctx);
  registerWorkers(program, ctx);
  registerHelp(program, ctx);
  return program;
}
