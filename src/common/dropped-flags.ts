// CodaLab flags that we deliberately do not support, made explainable: each one is registered on
// its commander command as a hidden option, so that using it gives a one-line "not supported"
// message that says why and what to use instead, rather than commander's "unknown option". The
// lists themselves live with each program (src/cli/dropped-flags.ts, src/worker/dropped-flags.ts).
import { Option, type Command } from 'commander';
import { UserInputError } from './user-input-error.js';

export interface DroppedFlag {
  /** Spellings as CodaLab has them, short first: `-a, --use-azure-blob-beta` or `--store`. */
  readonly flags: string;
  /** Why it is not supported, and what to use instead; one sentence, shown to the user. */
  readonly reason: string;
}

/** The spellings of a dropped flag: `['-a', '--use-azure-blob-beta']`. */
export function droppedFlagSpellings(flag: DroppedFlag): string[] {
  return flag.flags.split(/,\s*/);
}

function hasFlag(command: Command, spelling: string): boolean {
  return command.options.some((o) => o.short === spelling || o.long === spelling);
}

/**
 * Registers each dropped flag on the command as a hidden option taking an optional value, and lists
 * them at the end of the command's help. A flag the command already has (implemented since) is
 * left alone: the real option wins, and the conformance test reports the stale entry.
 */
export function addDroppedFlags(command: Command, dropped: readonly DroppedFlag[]): void {
  const added = dropped.filter((flag) => !droppedFlagSpellings(flag).some((s) => hasFlag(command, s)));
  if (added.length === 0) return;
  for (const flag of added) command.addOption(new Option(`${flag.flags} [value]`).hideHelp());
  command.addHelpText('after', droppedFlagsHelp(added));
}

/** The help section that lists dropped flags and why (empty when there are none). */
export function droppedFlagsHelp(dropped: readonly DroppedFlag[]): string {
  if (dropped.length === 0) return '';
  const lines = dropped.map((flag) => `  ${droppedFlagSpellings(flag).join('/')}: ${flag.reason}`);
  return `\nCodaLab options not supported here:\n${lines.join('\n')}\n`;
}

/** Throws the user-facing explanation when the parsed command line used a dropped flag. */
export function rejectDroppedFlags(command: Command, dropped: readonly DroppedFlag[]): void {
  for (const flag of dropped) {
    const option = command.options.find((o) => o.flags === `${flag.flags} [value]`);
    if (option && command.getOptionValue(option.attributeName()) !== undefined) {
      throw new UserInputError(`${droppedFlagSpellings(flag).join('/')} is not supported: ${flag.reason}`);
    }
  }
}
