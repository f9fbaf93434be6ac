// Worksheet commands: `new`, `wls`, `wrm`, `add bundle|text`, `print`. A worksheet is an ordered
// list of bundles and text; `^N` counts bundles from the end. The home worksheet is `home-<user>`.
import type { Command } from 'commander';
import { UserInputError } from '../../common/user-input-error.js';
import {
  bundleOpsRoutes,
  Worksheet,
  WorksheetItems,
  type Bundle,
  type PrivateBundle,
  type WorksheetItem,
  WorksheetList,
  type AddItemRequest,
  type CreateWorksheetRequest,
} from '../../protocol/index.js';
import { formatBundleTable } from '../format/bundle-table.js';
import { writeJson } from '../format/json-output.js';
import { worksheetHeader } from '../format/listings.js';
import { formatTable } from '../format/table.js';
import { terminalText } from '../format/terminal-text.js';
import { writeLine } from '../io.js';
import { resolveManyTargets } from '../resolve-many.js';
import { worksheetFor } from '../resolve.js';
import { PICK_WORKSHEET_HINT, type CliContext } from '../session.js';

export const NEW_EXAMPLES = `
Examples:
  cl new exp1                            create worksheet exp1 and print its uuid
  cl new exp1 -t "First experiments"     with a title
  cl work exp1                           then switch to it
A name that exists already is an error.`;

export const WLS_EXAMPLES = `
Examples:
  cl wls                                 all worksheets (name order, at most 100)
  cl wls exp .mine                       mine whose name contains exp
  cl wls owner=alice -u                  uuids only
Keywords: WORD (name contains), name=PATTERN (% or .* wildcards), owner=USER, .mine, .limit=N, .offset=N.
--json: {"worksheets": [{"uuid","name","title","owner_id","owner_name"}...], "more": boolean}`;

export const WRM_EXAMPLES = `
Examples:
  cl wrm exp1                            delete the empty worksheet exp1
  cl wrm exp1 --force                    delete it even if it holds items (the bundles are kept)
Prints the uuid of the deleted worksheet.`;

export const ADD_EXAMPLES = `
Examples:
  cl add bundle corpus                   add bundle corpus (found anywhere) to the current worksheet
  cl add bundle ^1-2 -d exp1             add bundles to worksheet exp1
  cl add text "## Results"               add a line of text
Prints the uuid of each bundle added.`;

export const PRINT_EXAMPLES = `
Examples:
  cl print                               the current worksheet: text and bundle tables, in order
  cl print exp1 --json
--json: {"worksheet": {...}, "items": [{"type":"bundle","bundle":Bundle} | {"type":"markup","value":TEXT}...]}`;

export function registerWorksheetCommands(program: Command, ctx: CliContext): void {
  program
    .command('new')
    .description('Create a worksheet; prints its uuid.')
    .argument('<name>', 'worksheet name (letters, digits, _ . -; starts with a letter or _)')
    .option('-t, --title <title>', 'worksheet title')
    .addHelpText('after', NEW_EXAMPLES)
    .action(async (name: string, options: { title?: string }) => {
      const session = await ctx.session();
      const request: CreateWorksheetRequest = { name, ...(options.title !== undefined ? { title: options.title } : {}) };
      const worksheet = await session.api.json(bundleOpsRoutes.createWorksheet(), Worksheet, { method: 'POST', json: request });
      writeLine(ctx.io.stdout, worksheet.uuid);
    });

  program
    .command('wls')
    .aliases(['wsearch', 'ws'])
    .description('List or search worksheets.')
    .argument('[keywords...]', 'search keywords')
    .option('-u, --uuid-only', 'print only uuids')
    .option('--json', 'print the answer as JSON')
    .addHelpText('after', WLS_EXAMPLES)
    .action(async (keywords: string[], options: { uuidOnly?: boolean; json?: boolean }) => {
      const session = await ctx.session();
      const answer = await session.api.json(bundleOpsRoutes.searchWorksheets(), WorksheetList, { method: 'POST', json: { keywords } });
      if (options.json) return writeJson(ctx.io.stdout, answer);
      if (options.uuidOnly) {
        for (const ws of answer.worksheets) writeLine(ctx.io.stdout, ws.uuid);
      } else {
        const rows = answer.worksheets.map((ws) => [ws.uuid, ws.name, ws.title ?? '', ws.owner_name]);
        for (const line of formatTable(['uuid', 'name', 'title', 'owner'], rows)) writeLine(ctx.io.stdout, line);
      }
      if (answer.more) writeLine(ctx.io.stderr, 'More worksheets match; use .limit=N or .offset=N.');
    });

  program
    .command('wrm')
    .description('Delete a worksheet (its bundles are kept).')
    .argument('<worksheet>', 'worksheet name or uuid')
    .option('--force', 'delete even if it holds bundles or text')
    .addHelpText('after', WRM_EXAMPLES)
    .action(async (spec: string, options: { force?: boolean }) => {
      const session = await ctx.session();
      const worksheet = await session.worksheetBySpec(spec);
      await session.api.json(bundleOpsRoutes.deleteWorksheet(worksheet.uuid, options.force === true), Worksheet, { method: 'DELETE' });
      writeLine(ctx.io.stdout, worksheet.uuid);
      if (session.isCurrentWorksheet(worksheet.uuid)) {
        writeLine(ctx.io.stderr, `That was your current worksheet: ${PICK_WORKSHEET_HINT}.`);
      }
    });

  program
    .command('add')
    .description('Add bundles or text to a worksheet: add bundle SPEC... | add text TEXT.')
    .argument('<kind>', "'bundle' or 'text'")
    .argument('<items...>', 'bundle specs, or the text')
    .option('-d, --dest-worksheet <worksheet>', 'add to this worksheet (default: the current one)')
    .option('-w, --worksheet-spec <worksheet>', 'resolve bundle specs on this worksheet')
    .addHelpText('after', ADD_EXAMPLES)
    .action(async (kind: string, items: string[], options: { destWorksheet?: string; worksheetSpec?: string }) => {
      if (kind !== 'bundle' && kind !== 'text') throw new UserInputError(`Unknown item kind '${kind}': use 'cl add bundle SPEC...' or 'cl add text TEXT'.`);
      const session = await ctx.session();
      const dest = await worksheetFor(session, options.destWorksheet);
      const requests: AddItemRequest[] =
        kind === 'text'
          ? [{ type: 'markup', value: items.join(' ') }]
          : (await resolveManyTargets(session, items, options.worksheetSpec)).map((t) => ({ type: 'bundle', bundle_uuid: t.uuid }));
      for (const request of requests) {
        await session.api.json(bundleOpsRoutes.worksheetItems(dest), WorksheetItems, { method: 'POST', json: request });
        if (request.type === 'bundle') writeLine(ctx.io.stdout, request.bundle_uuid);
      }
    });

  program
    .command('print')
    .alias('p')
    .description('Print a worksheet: its text and bundles in order, with ^N references.')
    .argument('[worksheet]', 'worksheet name or uuid (default: the current one)')
    .option('--json', 'print the worksheet as JSON')
    .addHelpText('after', PRINT_EXAMPLES)
    .action(async (spec: string | undefined, options: { json?: boolean }) => {
      const session = await ctx.session();
      const uuid = await worksheetFor(session, spec);
      const answer = await session.api.json(bundleOpsRoutes.worksheetItems(uuid), WorksheetItems);
      if (options.json) return writeJson(ctx.io.stdout, answer);
      for (const line of formatWorksheetPrint(answer)) writeLine(ctx.io.stdout, line);
    });
}

/** Text items as they are; each run of consecutive bundles as one table with `^N` refs. */
export function formatWorksheetPrint(answer: WorksheetItems): string[] {
  const { worksheet, items } = answer;
  const lines = worksheetHeader(worksheet);
  const isBundle = (item: WorksheetItem | undefined): boolean => item?.type === 'bundle' || item?.type === 'private_bundle';
  const total = items.filter(isBundle).length;
  let seen = 0;
  for (let i = 0; i < items.length; ) {
    const item = items[i];
    if (item?.type === 'markup') {
      lines.push(terminalText(item.value, 'multiline'));
      i += 1;
      continue;
    }
    const group: (Bundle | PrivateBundle)[] = [];
    while (isBundle(items[i])) {
      const next = items[i];
      if (next?.type === 'bundle') group.push(next.bundle);
      else if (next?.type === 'private_bundle') group.push({ uuid: next.uuid, private: true });
      i += 1;
    }
    const refs = group.map((_, k) => `^${total - seen - k}`);
    seen += group.length;
    lines.push('', ...formatBundleTable(group, refs), '');
  }
  return lines;
}
