// `cl alias` and `cl config`: the client's settings in $CODALAB_HOME/config.json. Aliases name
// server addresses, so `cl work NAME::` selects that server.
import type { Command } from 'commander';
import { UserInputError } from '../../common/user-input-error.js';
import { ClientConfigFile, convertConfigValue } from '../client-config-file.js';
import { writeJson } from '../format/json-output.js';
import { writeLine } from '../io.js';
import type { CliContext } from '../session.js';
import { normalizeInstance } from './work.js';

export const ALIAS_EXAMPLES = `
Examples:
  cl alias                               list aliases (name<TAB>address)
  cl alias dev http://127.0.0.1:2900     set an alias; then: cl work dev::
  cl alias dev                           print its address
  cl alias dev -r                        remove it
--json (listing): {"NAME": "ADDRESS", ...}`;

export const CONFIG_EXAMPLES = `
Examples:
  cl config cli/verbose true             set a key (true/false, numbers are converted)
  cl config cli/verbose                  print it (JSON for objects)
  cl config cli/verbose -r               remove it
Keys are '/'-separated paths into $CODALAB_HOME/config.json.`;

export function registerSettings(program: Command, ctx: CliContext): void {
  program
    .command('alias')
    .description('List, show, set or remove aliases for server addresses.')
    .argument('[name]', 'alias name')
    .argument('[address]', 'server address (http://HOST:PORT)')
    .option('-r, --remove', 'remove the alias')
    .option('--json', 'print the aliases as JSON')
    .addHelpText('after', ALIAS_EXAMPLES)
    .action((name: string | undefined, address: string | undefined, options: { remove?: boolean; json?: boolean }) => {
      const file = new ClientConfigFile(ctx.config.home);
      const aliases = file.aliases();
      if (name === undefined) {
        if (options.json) return writeJson(ctx.io.stdout, aliases);
        for (const [alias, value] of Object.entries(aliases).sort()) writeLine(ctx.io.stdout, `${alias}\t${value}`);
        return;
      }
      if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new UserInputError(`Invalid alias '${name}': use letters, digits, '_', '.' and '-'.`);
      if (options.remove) {
        if (aliases[name] === undefined) throw new UserInputError(`No alias '${name}'.`);
        file.set(`aliases/${name}`, undefined);
        return;
      }
      if (address === undefined) {
        const value = aliases[name];
        if (value === undefined) throw new UserInputError(`No alias '${name}': set one with 'cl alias ${name} ADDRESS'.`);
        return writeLine(ctx.io.stdout, value);
      }
      file.set(`aliases/${name}`, normalizeInstance(address));
    });

  program
    .command('config')
    .description('Show, set or remove a client setting.')
    .argument('<key>', "a '/'-separated key, e.g. cli/verbose")
    .argument('[value]', 'the new value')
    .option('-r, --remove', 'remove the key')
    .addHelpText('after', CONFIG_EXAMPLES)
    .action((key: string, value: string | undefined, options: { remove?: boolean }) => {
      const file = new ClientConfigFile(ctx.config.home);
      if (options.remove) return file.set(key, undefined);
      if (value !== undefined) return file.set(key, convertConfigValue(value));
      const current = file.get(key);
      if (current === undefined) throw new UserInputError(`Config key '${key}' is not set.`);
      writeLine(ctx.io.stdout, typeof current === 'string' ? current : JSON.stringify(current));
    });
}
