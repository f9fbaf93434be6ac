// `cl info SPEC...`: a bundle's fields, metadata and dependencies; `-f a,b` prints just those values,
// tab-separated on one line per bundle, for scripts; `--verbose` adds where the bundle is, what the
// caller may do with it, and a preview of its contents.
import type { Command } from 'commander';
import { Writable } from 'node:stream';
import { BundleVerboseInfo, bundleOpsRoutes, type Bundle } from '../../protocol/index.js';
import { fetchBundle } from '../bundle-watch.js';
import { copyBlobIfPresent, getTargetInfo } from '../contents.js';
import { formatBundleInfo, parseFieldList } from '../format/bundle-info.js';
import { formatDirectoryListing } from '../format/listings.js';
import { writeJson } from '../format/json-output.js';
import { formatGenpaths } from '../genpaths.js';
import { resolveManyTargets } from '../resolve-many.js';
import { writeLine } from '../io.js';
import type { CliContext, Session } from '../session.js';

export const INFO_EXAMPLES = `
Examples:
  cl info ^1                             everything about the newest bundle
  cl info -f uuid,state,exitcode run1    values only, tab-separated
  cl info --raw ^1                       values as stored, every standard key (empty ones too)
  cl info --verbose ^1                   also host_worksheets, permission and a preview: the
                                         first lines of stdout and stderr (runs), a listing
                                         (directories) or the first lines (files)
  cl info ^1-3 -f uuid,state             a range: ^1, ^2 and ^3
  cl info -f args,dependencies/data ^1   the equivalent cl run line; one dependency's uuid/path
  cl info -f /stats.json:acc,/out.txt ^1 a value from a JSON or key<TAB>value file; a file's text
Fields (-f): uuid state command bundle_type owner owner_id created is_dir dependencies args,
dependencies/KEY, any metadata key (name, exitcode, docker_image, ...), /PATH and /PATH:KEY.
--json: [Bundle...], each {"uuid","bundle_type","command","state","owner_id","owner_name","is_dir",
"created" (epoch s),"metadata":{...},"dependencies":[{"child_path","parent_uuid","parent_path",
"parent_name","parent_state"}]}`;

const PREVIEW_LINES = 10;

interface InfoOptions {
  field?: string;
  raw?: boolean;
  verbose?: boolean;
  worksheetSpec?: string;
  json?: boolean;
}

export function registerInfo(program: Command, ctx: CliContext): void {
  program
    .command('info')
    .alias('i')
    .description("Show a bundle's metadata, state and dependencies.")
    .argument('<specs...>', 'bundle specs')
    .option('-f, --field <fields>', 'comma-separated fields to print, tab-separated')
    .option('-r, --raw', 'print values as stored, and every standard key of the type, empty or not')
    .option('-v, --verbose', 'also print host worksheets, permission and a preview of the contents')
    .option('-w, --worksheet-spec <worksheet>', 'resolve specs on this worksheet')
    .option('--json', 'print the bundles as a JSON array')
    .addHelpText('after', INFO_EXAMPLES)
    .action(async (specs: string[], options: InfoOptions) => runInfo(ctx, specs, options));
}

async function runInfo(ctx: CliContext, specs: string[], options: InfoOptions): Promise<void> {
  const fields = options.field !== undefined ? parseFieldList(options.field) : undefined;
  const session = await ctx.session();
  const targets = await resolveManyTargets(session, specs, options.worksheetSpec);
  if (options.json) {
    const bundles: Bundle[] = [];
    for (const { uuid } of targets) bundles.push(await fetchBundle(session.api, uuid));
    writeJson(ctx.io.stdout, bundles);
    return;
  }
  for (const [index, { uuid }] of targets.entries()) {
    const bundle = await fetchBundle(session.api, uuid);
    if (fields) {
      writeLine(ctx.io.stdout, await formatGenpaths(session, bundle, fields));
      continue;
    }
    if (index > 0) writeLine(ctx.io.stdout);
    const extra = options.verbose ? await verboseEntries(session, bundle) : [];
    for (const line of formatBundleInfo(bundle, { raw: options.raw === true, extra })) writeLine(ctx.io.stdout, line);
    if (options.verbose) await printPreviews(ctx, session, bundle);
  }
}

async function verboseEntries(session: Session, bundle: Bundle): Promise<[string, string][]> {
  const extra = await session.api.json(bundleOpsRoutes.verboseInfo(bundle.uuid), BundleVerboseInfo);
  const hosts = extra.host_worksheets.map((w) => `${w.name}(${w.uuid})`).join(' ');
  // CodaLab's form: `public(0x0000):read lab(0x12ab):all`; empty when shared with no group.
  const groups = extra.group_permissions.map((g) => `${g.group_name}(${g.group_uuid.slice(0, 8)}):${g.permission}`).join(' ');
  return [
    ['host_worksheets', hosts],
    ['permission', extra.permission],
    ['group_permissions', groups],
  ];
}

/** Runs: the first lines of stdout and stderr; others: a directory listing or a file's first lines. */
async function printPreviews(ctx: CliContext, session: Session, bundle: Bundle): Promise<void> {
  if (bundle.bundle_type === 'run') {
    for (const file of ['stdout', 'stderr']) await printFilePreview(ctx, session, bundle, file, `${file}:`);
  } else {
    await printContentsPreview(ctx, session, bundle);
  }
}

async function printContentsPreview(ctx: CliContext, session: Session, bundle: Bundle): Promise<void> {
  if (bundle.is_dir === null) return writeLine(ctx.io.stdout, 'contents:\n  <none>');
  if (!bundle.is_dir) return printFilePreview(ctx, session, bundle, '', 'contents:');
  writeLine(ctx.io.stdout, 'contents:');
  const info = await getTargetInfo(session.api, bundle.uuid, '');
  for (const line of formatDirectoryListing(info)) writeLine(ctx.io.stdout, `  ${line}`);
}

/** The first lines of a file, escaped like any stored text, with `<none>` when there is none yet. */
async function printFilePreview(ctx: CliContext, session: Session, bundle: Bundle, path: string, label: string): Promise<void> {
  writeLine(ctx.io.stdout, label);
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  const shown = await copyBlobIfPresent(session.api, bundle.uuid, path, sink, { head: PREVIEW_LINES }).catch(
    () => false, // a run that is not final may not serve its files yet; the preview is optional
  );
  const text = Buffer.concat(chunks).toString('utf8').replace(/\n$/, '');
  if (!shown) writeLine(ctx.io.stdout, '  <none>');
  else if (text !== '') writeLine(ctx.io.stdout, text);
}
