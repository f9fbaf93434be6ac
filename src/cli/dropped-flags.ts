// The CodaLab `cl` flags we do not support, by command, each with the reason and what to use
// instead. buildProgram registers them (src/common/dropped-flags.ts) so that `cl` explains them
// when used; test/conformance/cli-flags.test.ts keeps this list equal to its table of gaps.
import type { Command } from 'commander';
import { addDroppedFlags, rejectDroppedFlags, type DroppedFlag } from '../common/dropped-flags.js';

const ONE_STORE = 'this server has one bundle store, so there is nothing to choose.';
const NO_EDITOR = 'there is no editor form; give the metadata with -n, -d and --tags (or cl edit afterwards).';
const NO_WAIT = "wait for the new bundles with 'cl wait --tail UUID'.";

export const DROPPED_CL_FLAGS: Readonly<Record<string, readonly DroppedFlag[]>> = {
  upload: [
    { flags: '-g, --git', reason: 'the server does not clone repositories; clone it here and upload the directory.' },
    {
      flags: '-z, --force-compression',
      reason: 'contents travel as plain tar (compression is slower than the disk); nothing to force.',
    },
    { flags: '-i, --ignore', reason: 'give the patterns to leave out with -x/--exclude-patterns.' },
    { flags: '-l, --link', reason: 'linked bundles are not supported; upload the contents.' },
    { flags: '--link-url', reason: 'linked bundles are not supported; upload the contents.' },
    { flags: '--link-format', reason: 'linked bundles are not supported; upload the contents.' },
    { flags: '-a, --use-azure-blob-beta', reason: ONE_STORE },
    { flags: '--store', reason: ONE_STORE },
    { flags: '--license', reason: "set it after the upload: cl edit UUID -f license 'TEXT'." },
    { flags: '--source-url', reason: 'set it after the upload: cl edit UUID -f source_url URL.' },
    { flags: '-e, --edit', reason: NO_EDITOR },
  ],
  run: [
    { flags: '--store', reason: ONE_STORE },
    { flags: '-e, --edit', reason: NO_EDITOR },
    { flags: '-a, --after_sort_key', reason: 'new bundles go at the end of the worksheet; this position is for the web UI.' },
    {
      flags: '-i, --interactive',
      reason: "try the command in a container of the image yourself ('docker run -it IMAGE').",
    },
    { flags: '-v, --verbose', reason: "run 'cl info UUID' after 'cl run --wait' or '--tail'." },
  ],
  make: [
    { flags: '--store', reason: ONE_STORE },
    { flags: '-e', reason: NO_EDITOR },
  ],
  mimic: [
    { flags: '-s, --shadow', reason: 'new bundles go at the end of the worksheet.' },
    { flags: '-W', reason: NO_WAIT },
    { flags: '-t', reason: NO_WAIT },
    { flags: '-v', reason: NO_WAIT },
  ],
  macro: [
    { flags: '-s, --shadow', reason: 'new bundles go at the end of the worksheet.' },
    { flags: '-W', reason: NO_WAIT },
    { flags: '-t', reason: NO_WAIT },
    { flags: '-v', reason: NO_WAIT },
  ],
  edit: [
    { flags: '--anonymous', reason: 'bundles have no anonymous mode here; owners are always shown.' },
    { flags: '--not-anonymous', reason: 'bundles have no anonymous mode here; owners are always shown.' },
  ],
  ls: [{ flags: '-f', reason: "print chosen fields with 'cl info -f FIELDS $(cl ls -u)'." }],
  search: [{ flags: '-a, --append', reason: "add the results with 'cl add bundle $(cl search ... -u)'." }],
  uedit: [{ flags: '--first-name', reason: 'accounts have no profile fields here; only quotas and access change.' }],
  print: [{ flags: '-r', reason: 'worksheets have no markup source here; cl print shows their text and bundles.' }],
  help: [
    { flags: '-v', reason: "'cl help COMMAND' already shows every option." },
    { flags: '-m', reason: 'help is plain text only.' },
  ],
};

/** Registers the dropped flags on each command, and a check before any command's action runs. */
export function applyDroppedFlags(program: Command): void {
  for (const command of program.commands) addDroppedFlags(command, DROPPED_CL_FLAGS[command.name()] ?? []);
  program.hook('preAction', (_program, actionCommand) => {
    rejectDroppedFlags(actionCommand, DROPPED_CL_FLAGS[actionCommand.name()] ?? []);
  });
}
