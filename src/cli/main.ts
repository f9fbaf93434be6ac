// Entry point of `cl`: reads the configuration once, builds the commands, runs one, and turns
// every failure into a single `cl: ...` line on stderr with exit status 1 (stack traces only with
// CODALAB_DEBUG=1). Nothing else in src/cli reads process.env or calls process.exit.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CommanderError } from 'commander';
import { UserInputError } from '../common/user-input-error.js';
import { ApiError } from '../protocol/index.js';
import { parseCliConfig, type CliConfig } from './config.js';
import { terminalText } from './format/terminal-text.js';
import type { CliIo } from './io.js';
import { buildProgram } from './program.js';
import { bindOptionalBooleans, splitAtSeparator } from './run-args.js';
import { openSession, type CliContext, type Session } from './session.js';
import { StateStore } from './state-store.js';

export async function main(argv: string[]): Promise<void> {
  const io: CliIo = { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin };
  // A closed pipe (`cl cat x | head`) is the reader's choice, not an error worth a message.
  process.stdout.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  });
  let config: CliConfig;
  try {
    const here = dirname(fileURLToPath(import.meta.url));
    config = parseCliConfig({
      env: process.env,
      cwd: process.cwd(),
      serverBin: resolve(here, '..', '..', 'bin', 'cl-server'),
      nodeBin: process.execPath,
    });
  } catch (error) {
    io.stderr.write(`cl: ${describeError(error, false)}\n`);
    process.exitCode = 1;
    return;
  }
  process.exitCode = await runCli(argv, config, io);
}

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
