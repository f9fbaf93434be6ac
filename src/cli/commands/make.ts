// `cl make [KEY:]TARGET...`: a bundle assembled on the server from (parts of) other bundles. One
// unkeyed target makes a copy of it; several targets each need a key. Prints the new uuid.
import type { Command } from 'commander';
import { parseDependencyArg, parseTarget } from '../../common/bundle-spec.js';
import { validateBundleName } from '../../common/names.js';
import { UserInputError } from '../../common/user-input-error.js';
import { Bundle, routes, type CreateBundleRequest, type Dependency, type Metadata } from '../../protocol/index.js';
import { waitUntilFinal, describeFinal } from '../bundle-watch.js';
import { writeLine } from '../io.js';
import { resolveTarget, worksheetFor } from '../resolve.js';
import type { CliContext } from '../session.js';

export const MAKE_EXAMPLES = `
Examples:
  cl make corpus/train.txt                   a copy of one file (named train.txt)
  cl make code:prog data:corpus -n bundle    a directory holding code/ and data/
  cl make a/b:^1/out                         keys may be nested paths
States: created -> staged -> making -> ready (or failed). Two targets without keys is an error.`;

interface MakeOptions {
  name?: string;
  description?: string;
  tags?: string[];
  allowFailedDependencies?: boolean;
  worksheetSpec?: string;
  wait?: boolean;
}

export function registerMake(program: Command, ctx: CliContext): void {
  program
    .command('make')
    .description('Create a bundle by copying (parts of) other bundles, on the server.')
    .argument('<targets...>', '[KEY:]TARGET...')
    .option('-n, --name <name>', 'bundle name (default: the target basename, or make-...)')
    .option('-d, --description <text>', 'bundle description')
    .option('--tags <tags...>', 'bundle tags')
    .option('--allow-failed-dependencies', 'make it even if parents failed or were killed, from what they left')
    .option('-w, --worksheet-spec <worksheet>', 'add the bundle to this worksheet')
    .option('-W, --wait', 'wait until it is ready')
    .addHelpText('after', MAKE_EXAMPLES)
    .action(async (targets: string[], options: MakeOptions) => {
      const parsed = targets.map((text) => parseDependencyArg(text) ?? { key: '', target: parseTarget(text) });
      const unkeyed = parsed.filter((p) => p.key === '').length;
      if (unkeyed > 0 && parsed.length > 1) {
        throw new UserInputError(`cl make with several targets needs KEY:TARGET for each; ${unkeyed} of ${parsed.length} have no key.`);
      }
      const keys = parsed.map((p) => p.key);
      const duplicate = keys.find((k, i) => k !== '' && keys.indexOf(k) !== i);
      if (duplicate !== undefined) throw new UserInputError(`Duplicate key '${duplicate}' in cl make.`);
      const metadata: Metadata = {
        ...(options.name !== undefined ? { name: validateBundleName(options.name) } : {}),
        ...(options.description !== undefined ? { description: options.description } : {}),
        ...(options.tags !== undefined ? { tags: options.tags } : {}),
        ...(options.allowFailedDependencies ? { allow_failed_dependencies: true } : {}),
      };
      const session = await ctx.session();
      const worksheet = await worksheetFor(session, options.worksheetSpec);
      const dependencies: Dependency[] = [];
      for (const p of parsed) {
        const resolved = await resolveTarget(session, p.target, options.worksheetSpec);
        dependencies.push({ child_path: p.key, parent_uuid: resolved.uuid, parent_path: resolved.subpath });
      }
      const request: CreateBundleRequest = { bundle_type: 'make', metadata, dependencies };
      const bundle = await session.api.json(routes.createBundle(worksheet), Bundle, { method: 'POST', json: request });
      writeLine(ctx.io.stdout, bundle.uuid);
      if (!options.wait) return;
      const final = await waitUntilFinal(session.api, bundle.uuid);
      if (final.state !== 'ready') {
        writeLine(ctx.io.stderr, describeFinal(final));
        ctx.exitCode = 1;
      }
    });
}
