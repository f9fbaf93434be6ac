// `cl download TARGET [-o PATH] [-f]`: a file is written as-is; a directory arrives as a plain tar
// stream and is unpacked into PATH. Nothing is written when PATH exists and -f is not given.
import type { Command } from 'commander';
import { createWriteStream } from 'node:fs';
import { lstat, mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { coalesceChunks } from '../../common/coalesce.js';
import { extractBundleTar } from '../../common/tar-extract.js';
import { UserInputError } from '../../common/user-input-error.js';
import { routes, TARGET_TYPE_HEADER } from '../../protocol/index.js';
import { fetchBundle } from '../bundle-watch.js';
import { writeLine } from '../io.js';
import { resolveTargetText } from '../resolve.js';
import type { CliContext } from '../session.js';

export const DOWNLOAD_EXAMPLES = `
Examples:
  cl download ^1                         into ./<bundle name> (a file or a directory)
  cl download run1/out -o results        a sub-path, into ./results
  cl download corpus -f                  replace ./corpus if it exists
Prints the path written on stdout.`;

interface DownloadOptions {
  outputPath?: string;
  force?: boolean;
  worksheetSpec?: string;
}

export function registerDownload(program: Command, ctx: CliContext): void {
  program
    .command('download')
    .alias('down')
    .description("Download a bundle's contents (or a path inside it) to a local file or directory.")
    .argument('<target>', 'bundle spec, optionally followed by /sub/path')
    .option('-o, --output-path <path>', 'where to write (default: ./<bundle name> or the sub-path basename)')
    .option('-f, --force', 'overwrite the output path if it exists')
    .option('-w, --worksheet-spec <worksheet>', 'resolve the spec on this worksheet')
    .addHelpText('after', DOWNLOAD_EXAMPLES)
    .action(async (target: string, options: DownloadOptions) => runDownload(ctx, target, options));
}

async function runDownload(ctx: CliContext, text: string, options: DownloadOptions): Promise<void> {
  const session = await ctx.session();
  const target = await resolveTargetText(session, text, options.worksheetSpec);
  const bundle = await fetchBundle(session.api, target.uuid);
  const defaultName = target.subpath ? (target.subpath.split('/').pop() ?? 'download') : String(bundle.metadata.name ?? bundle.uuid);
  const output = resolve(ctx.config.cwd, options.outputPath ?? defaultName);
  const exists = (await lstat(output).catch(() => null)) !== null;
  if (exists && !options.force) throw new UserInputError(`${output} already exists; use -f to overwrite it, or -o to choose another path.`);
  const response = await session.api.send(routes.contentsBlob(target.uuid, target.subpath), { timeoutMs: 0, framed: true });
  const body = response.body;
  // Write next to the output, then swap it in: a failed download leaves the old output untouched.
  const temp = resolve(dirname(output), `.${basename(output)}.cl-download-${process.pid}`);
  await rm(temp, { recursive: true, force: true });
  try {
    if (response.headers.get(TARGET_TYPE_HEADER) === 'directory') {
      await mkdir(temp, { recursive: true });
      const extraction = extractBundleTar(temp);
      await pipeline(body, coalesceChunks(), extraction.stream);
      await extraction.finish();
    } else {
      await mkdir(dirname(temp), { recursive: true });
      await pipeline(body, createWriteStream(temp));
    }
    if (exists) await rm(output, { recursive: true, force: true });
    await rename(temp, output);
  } finally {
    await rm(temp, { recursive: true, force: true });
  }
  writeLine(ctx.io.stdout, output);
}
