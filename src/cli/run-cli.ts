// One `cl` invocation: builds the commands, runs one, and turns every failure into a single
// `cl: ...` line on stderr with exit status 1 (stack traces only with CODALAB_DEBUG=1). Loaded by
// main.ts only when a command runs, so that `cl --version` loads none of it.
import { CommanderError } from 'commander';
import { config as zodConfig } from 'zod';
import { UserInputError } from '../common/user-input-error.js';
import { ApiError } from '../protocol/index.js';
import type { CliConfig } from './config.js';
import { terminalText } from './format/terminal-text.js';
import type { CliIo } from './io.js';
import { buildProgram } from './program.js';
import { bindOptionalBooleans, splitAtSeparator } from './run-args.js';
import { openSession, type CliContext, type Session } from './session.js';
import { StateStore } from './state-store.js';

// A command parses a few answers once: compiling a parser for each schema costs more than it saves.
zodConfig({ jitless: true });

/** Runs one `cl` invocation and returns its exit status; never throws. */
export async function runCli(argv: readonly string[], config: CliConfig, io: CliIo): Promise<number> {
  const state = new StateStore(config.home);
  let session: Promise<Session> | undefined;
  const ctx: CliContext = {
    config,
    io,
    state,
    exitCode: 0,
    session: () => (session ??= openSession(config, io, state, state.currentInstance())),
  };
  const { args, commandWords } = prepareArgv(argv);
  const program = buildProgram(ctx, () => commandWords);
  try {
    if (args.length === 0) {
      program.outputHelp();
      return 0;
    }
    await program.parseAsync(args, { from: 'user' });
    return ctx.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode; // commander printed its message
    io.stderr.write(`cl: ${describeError(error, config.debug)}\n`);
    return 1;
  }
}

/** `cl run ... --- WORDS`: the words after `---` bypass option parsing entirely. */
function prepareArgv(argv: readonly string[]): { args: string[]; commandWords: string[] | undefined } {
  if (argv[0] !== 'run') return { args: [...argv], commandWords: undefined };
  const { options, commandWords } = splitAtSeparator(argv);
  return { args: bindOptionalBooleans(options, ['--request-network']), commandWords };
}

/** Messages may echo what a server or a user stored, so they are escaped like any stored text. */
export function describeError(error: unknown, debug: boolean): string {
  if (error instanceof UserInputError || error instanceof ApiError) return oneLine(error.message);
  if (error instanceof Error) return debug && error.stack ? terminalText(error.stack, 'multiline') : oneLine(error.message);
  return oneLine(String(error));
}

function oneLine(text: string): string {
  return terminalText(text.replace(/\s*\n\s*/g, ' ').trim());
}
