// `cl cat TARGET`: a file's exact bytes (or its first/last N lines), or a directory's listing.
import type { Command } from 'commander';
import { UserInputError } from '../../common/user-input-error.js';
import { copyBlob, getTargetInfo } from '../contents.js';
import { formatDirectoryListing } from '../format/listings.js';
import { terminalText } from '../format/terminal-text.js';
import { writeLine } from '../io.js';
import { resolveTargetText } from '../resolve.js';
import type { CliContext } from '../session.js';

export const CAT_EXAMPLES = `
Examples:
  cl cat ^1/stdout                       the output of the newest run
  cl cat run1/data/lines.txt --head 5    the first 5 lines, through a dependency key
  cl cat corpus                          a directory: name, permissions, size`;

interface CatOptions {
  head?: number;
  tail?: number;
  worksheetSpec?: string;
}

export function parseLineCount(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UserInputError(`Invalid line count '${text}': expected a whole number.`);
  return Number(text);
}

export function registerCat(program: Command, ctx: CliContext): void {
  program
    .command('cat')
    .description("Print a file of a bundle, or list a directory's entries.")
    .argument('<target>', 'SPEC[/path]')
    .option('--head <n>', 'print only the first N lines', parseLineCount)
    .option('-t, --tail <n>', 'print only the last N lines', parseLineCount)
    .option('-w, --worksheet-spec <worksheet>', 'resolve the spec on this worksheet')
    .addHelpText('after', CAT_EXAMPLES)
    .action(async (target: string, options: CatOptions) => runCat(ctx, target, options));
}

async function runCat(ctx: CliContext, text: string, options: CatOptions): Promise<void> {
  const session = await ctx.session();
  const target = await resolveTargetText(session, text, options.worksheetSpec);
  const info = await getTargetInfo(session.api, target.uuid, target.subpath);
  if (info.type === 'directory') {
    for (const line of formatDirectoryListing(info)) writeLine(ctx.io.stdout, line);
  } else if (info.type === 'link') {
    writeLine(ctx.io.stdout, terminalText(`${info.name} -> ${info.link ?? '?'}`));
  } else {
    await copyBlob(session.api, target.uuid, target.subpath, ctx.io.stdout, { head: options.head, tail: options.tail });
  }
}
