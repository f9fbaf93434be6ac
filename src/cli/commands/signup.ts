// `cl signup NAME`: create your own account on a server started with --allow-signup, then log
// in as it. Needs no account; the server answers 403 when sign-up is off.
import type { Command } from 'commander';
import { UserInputError } from '../../common/user-input-error.js';
import { HttpClient } from '../../common/http-client.js';
import { routes, User } from '../../protocol/index.js';
import { writeLine } from '../io.js';
import { TokenProvider } from '../login.js';
import { PASSWORD_FILE_HELP, PASSWORD_STDIN_HELP, readPasswords, type PasswordSourceOptions } from '../password-input.js';
import type { CliContext } from '../session.js';
import { LOCAL_INSTANCE } from '../state-store.js';

export const SIGNUP_EXAMPLES = `
Examples:
  cl work https://codalab.example.org::  select the server first
  cl signup alice                        asks for a password (twice), creates alice, logs in as her
  printf '%s\\n' "$PW" | cl signup alice --password-stdin
Prints the new user's id on stdout. Only on servers started with --allow-signup.`;

export function registerSignup(program: Command, ctx: CliContext): void {
  program
    .command('signup')
    .description('Create your own account on the current server (if it allows sign-up) and log in.')
    .argument('<name>', 'user name: letters, digits, _ . -')
    .option('--password-file <file>', PASSWORD_FILE_HELP)
    .option('--password-stdin', PASSWORD_STDIN_HELP)
    .addHelpText('after', SIGNUP_EXAMPLES)
    .action(async (name: string, options: PasswordSourceOptions) => {
      const instance = ctx.state.currentInstance();
      if (instance === LOCAL_INSTANCE) {
        throw new UserInputError("The local instance has no sign-up (you are its root): select a server first with 'cl work URL::'.");
      }
      const [password = ''] = await readPasswords(ctx.io, options, [`Password for ${name}: `], true);
      const user = await new HttpClient({ baseUrl: instance }).json(routes.signup(), User, {
        method: 'POST',
        json: { user_name: name, password },
      });
      const tokens = new TokenProvider(instance, instance, ctx.state, () => Promise.resolve({ username: name, password }));
      await tokens.login();
      writeLine(ctx.io.stdout, user.id);
      writeLine(ctx.io.stderr, `Signed up and logged in to ${instance} as ${user.user_name}.`);
    });
}
