// Builds the commander program: global settings (output streams, errors reported by main rather
// than by commander's process.exit) and one registration per command file.
import { Command } from 'commander';
import { PRODUCT_VERSION } from '../protocol/index.js';
import { registerCat } from './commands/cat.js';
import { HELP_FOOTER, registerHelp } from './commands/help.js';
import { registerInfo } from './commands/info.js';
import { registerKill } from './commands/kill.js';
import { registerLocal } from './commands/local.js';
import { registerLogout } from './commands/logout.js';
import { registerLs } from './commands/ls.js';
import { registerRun } from './commands/run.js';
import { registerStatus } from './commands/status.js';
import { registerUpload } from './commands/upload.js';
import { registerWait } from './commands/wait.js';
import { registerWork } from './commands/work.js';
import { registerWorkers } from './commands/workers.js';
import { registerCompletion } from './commands/completion.js';
import { registerDetach } from './commands/detach.js';
import { registerDownload } from './commands/download.js';
import { registerEdit } from './commands/edit.js';
import { registerMake } from './commands/make.js';
import { registerMimic } from './commands/mimic.js';
import { registerRm } from './commands/rm.js';
import { registerSearch } from './commands/search.js';
import { registerSettings } from './commands/settings.js';
import { registerUedit } from './commands/uedit.js';
import { registerUinfo } from './commands/uinfo.js';
import { registerUnew } from './commands/unew.js';
import { registerUls } from './commands/uls.js';
import { registerUfarewell } from './commands/ufarewell.js';
import { registerPasswd } from './commands/passwd.js';
import { registerSignup } from './commands/signup.js';
import { registerWorksheetCommands } from './commands/worksheets.js';
import { registerGroupCommands } from './commands/groups.js';
import { registerSharingCommands } from './commands/sharing.js';
import { registerNetcat } from './commands/netcat.js';
import { registerWrite } from './commands/write.js';
import { applyDroppedFlags } from './dropped-flags.js';
import type { CliContext } from './session.js';

export function buildProgram(ctx: CliContext, runCommandWords: () => string[] | undefined): Command {
  const program = new Command('cl');
  program
    .description('CodaLab client: upload bundles, run commands on workers, inspect results.')
    .version(PRODUCT_VERSION, '-v, --version', 'print the version')
    .helpCommand(false)
    // Program options (-v) only before the command name: `cl info -v` is info's --verbose.
    .enablePositionalOptions()
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
  registerWrite(program, ctx);
  registerNetcat(program, ctx);
  registerWorkers(program, ctx);
  // Issue 3: the rest of the CodaLab bundle and worksheet commands.
  registerDownload(program, ctx);
  registerRm(program, ctx);
  registerEdit(program, ctx);
  registerDetach(program, ctx);
  registerSearch(program, ctx);
  registerMake(program, ctx);
  registerMimic(program, ctx);
  registerWorksheetCommands(program, ctx);
  registerGroupCommands(program, ctx);
  registerSharingCommands(program, ctx);
  registerUinfo(program, ctx);
  registerUnew(program, ctx);
  registerUls(program, ctx);
  registerUfarewell(program, ctx);
  registerPasswd(program, ctx);
  registerSignup(program, ctx);
  registerUedit(program, ctx);
  registerSettings(program, ctx);
  registerLocal(program, ctx);
  registerCompletion(program, ctx);
  registerHelp(program, ctx);
  // Last, so that it sees every command: CodaLab flags we do not support, explained when used.
  applyDroppedFlags(program);
  return program;
}
