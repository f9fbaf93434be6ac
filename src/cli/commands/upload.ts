// `cl upload PATH... | -c TEXT`: create a dataset bundle and stream its contents to the server.
// Every path is checked and every flag validated before the bundle is created; the new uuid is
// the only thing printed on stdout.
import type { Command } from 'commander';
import { validateBundleName } from '../../common/names.js';
import { UserInputError } from '../../common/user-input-error.js';
import { ApiError, Bundle, routes, type CreateBundleRequest, type Metadata } from '../../protocol/index.js';
import { writeLine } from '../io.js';
import { trackProgress } from '../progress.js';
import { worksheetFor } from '../resolve.js';
import type { CliContext } from '../session.js';
import { planPathUpload, planTextUpload, type UploadPlan } from '../upload-source.js';

export const UPLOAD_EXAMPLES = `
Examples:
  cl upload data.csv                     a single file (stays a file)
  cl upload corpus/ -n corpus            a directory (its contents at the bundle root)
  cl upload code.tar.gz                  an archive, unpacked by the server
  cl upload a.txt b/ -d "two things"     several paths: a directory holding a.txt and b
  cl upload -c "hello"                   a file holding the text
  cl upload data.zip                     zip, tar, tar.gz/tgz, tar.bz2 are unpacked; .gz/.bz2 become one file
  cl upload data.tar.gz --pack           keep the archive as one file
  cl upload src/ -x '*.pyc' build        leave out files whose basename matches a pattern
  cl upload link-to-dir -L               follow symbolic links (otherwise they are kept as links)
.git, __MACOSX and ._* are always left out. A symbolic link given as the path is an error without
-L; links inside a directory are uploaded as links and never followed.`;

interface UploadOptions {
  contents?: string;
  name?: string;
  description?: string;
  tags?: string[];
  worksheetSpec?: string;
  pack?: boolean;
  excludePatterns?: string[];
  followSymlinks?: boolean;
}

export function registerUpload(program: Command, ctx: CliContext): void {
  program
    .command('upload')
    .alias('up')
    .description('Create a dataset bundle from local files or directories, or from text (-c).')
    .argument('[paths...]', 'files, directories or archives to upload')
    .option('-c, --contents <text>', 'upload this text as a single file')
    .option('-n, --name <name>', 'bundle name (default: the basenames)')
    .option('-d, --description <text>', 'bundle description')
    .option('--tags <tags...>', 'bundle tags')
    .option('-w, --worksheet-spec <worksheet>', 'add the bundle to this worksheet')
    .option('-p, --pack', 'upload archives as they are (do not unpack)')
    .option('-x, --exclude-patterns <patterns...>', 'leave out files whose basename matches these globs')
    .option('-L, --follow-symlinks', 'upload what symbolic links point to, not the links')
    .addHelpText('after', UPLOAD_EXAMPLES)
    .action(async (paths: string[], options: UploadOptions) => runUpload(ctx, paths, options));
}

async function runUpload(ctx: CliContext, paths: string[], options: UploadOptions): Promise<void> {
  if (options.contents !== undefined && paths.length > 0) {
    throw new UserInputError('Give either paths or -c TEXT, not both.');
  }
  const plan = options.contents !== undefined ? planTextUpload(options.contents) : await planPathUpload(paths, ctx.config.cwd, {
        pack: options.pack === true,
        excludePatterns: options.excludePatterns ?? [],
        followSymlinks: options.followSymlinks === true,
      });
  const metadata: Metadata = {
    name: options.name !== undefined ? validateBundleName(options.name) : plan.defaultName,
    ...(options.description !== undefined ? { description: options.description } : {}),
    ...(options.tags !== undefined ? { tags: options.tags } : {}),
  };
  const session = await ctx.session();
  const worksheet = await worksheetFor(session, options.worksheetSpec);
  const request: CreateBundleRequest = { bundle_type: 'dataset', metadata, dependencies: [] };
  const bundle = await session.api.json(routes.createBundle(worksheet), Bundle, { method: 'POST', json: request });
  await sendContents(ctx, bundle.uuid, plan);
  writeLine(ctx.io.stdout, bundle.uuid);
}

async function sendContents(ctx: CliContext, uuid: string, plan: UploadPlan): Promise<void> {
  const session = await ctx.session();
  const tracked = trackProgress(ctx.io, plan.open(), plan.totalBytes, 'Uploading');
  try {
    await session.api.json(routes.uploadContents(uuid, { unpack: plan.unpack, filename: plan.filename }), Bundle, {
      method: 'PUT',
      body: tracked.stream,
      framed: true,
    });
  } catch (error) {
    if (error instanceof ApiError) {
      throw new ApiError(error.code, `Uploading the contents of ${uuid} failed: ${error.message}`, { cause: error });
    }
    throw error;
  } finally {
    tracked.done();
  }
}
