// `cl help [COMMAND]` (and bare `cl`): the command list, or one command's usage with examples.
import type { Command } from 'commander';
import { UserInputError } from '../../common/user-input-error.js';
import { writeLine } from '../io.js';
import type { CliContext } from '../session.js';

export const HELP_FOOTER = `
Bundle specs: a uuid (0x...), a uuid prefix, a name, name^N, ^N (Nth newest on the worksheet),
WORKSHEET//SPEC, each optionally followed by /sub/path.

Environment: CODALAB_HOME (default ~/.codalab), CODALAB_USERNAME and CODALAB_PASSWORD (log in
without a prompt). With no server selected, cl starts and uses a local server with a worker.
Run 'cl help COMMAND' for a command's options and examples.`;

export function registerHelp(program: Command, ctx: CliContext): void {
  program
    .command('help')
    .description('Show the list of commands, or the usage of one command.')
    .argument('[command]', 'a command name')
    .addHelpText('after', '\nExamples:\n  cl help\n  cl help run')
    .action((name: string | undefined) => {
      if (name === undefined) {
        program.outputHelp();
        return;
      }
      const command = program.commands.find((c) => c.name() === name || c.aliases().includes(name));
      if (!command) throw new UserInputError(`Unknown command '${name}': run 'cl help' for the list.`);
      command.outputHelp();
      writeLine(ctx.io.stdout);
    });
}
