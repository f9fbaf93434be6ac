// `cl edit SPEC [-n NAME] [-d DESC] [--tags T...] [-f KEY VALUE]... [--freeze|--unfreeze]`: change
// a bundle's metadata, or freeze it. The command, state, dependencies, type and system-generated
// fields cannot be changed; the server refuses any edit of a frozen bundle but --unfreeze.
import type { Command } from 'commander';
import { validateBundleName } from '../../common/names.js';
import { UserInputError } from '../../common/user-input-error.js';
import { Bundle, bundleOpsRoutes, type Metadata, type UpdateBundleRequest } from '../../protocol/index.js';
import { writeLine } from '../io.js';
import { resolveTargetText } from '../resolve.js';
import type { CliContext } from '../session.js';

export const EDIT_EXAMPLES = `
Examples:
  cl edit ^1 -n sorted-v2                rename
  cl edit run1 -d "baseline" --tags nlp  description and tags
  cl edit run1 -f note "lr 0.1" -f seed 3   any other metadata key (stored as text)
  cl edit run1 --freeze                  freeze: no more edits, and cl rm refuses it
  cl edit run1 --unfreeze                allow edits and rm again
Only a ready, failed or killed bundle can be frozen; 'frozen' (cl info) shows when it was.
Refused: uuid, bundle_type, command, state, dependencies, owner, created, data_size and the fields
the system sets (docker_image, exitcode, time..., failure_message, ...). A run's request_* fields
only until it starts. Unlike CodaLab, 'cl edit SPEC' with no flags does not open an editor: it is
an error. Prints the uuid.`;

interface EditOptions {
  name?: string;
  description?: string;
  tags?: string[];
  field?: string[];
  freeze?: boolean;
  unfreeze?: boolean;
  worksheetSpec?: string;
}

function collectPairs(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

export function registerEdit(program: Command, ctx: CliContext): void {
  program
    .command('edit')
    .alias('e')
    .description("Edit a bundle's metadata (name, description, tags, other keys).")
    .argument('<spec>', 'bundle spec')
    .argument('[values...]', 'the VALUE of each -f KEY VALUE, in order')
    .option('-n, --name <name>', 'new name')
    .option('-d, --description <text>', 'new description')
    .option('-T, --tags <tags...>', 'new tags (replace the old ones)')
    .option('-f, --field <key>', 'set KEY to the next argument: -f KEY VALUE (repeatable)', collectPairs)
    .option('--freeze', 'freeze the bundle: its metadata can no longer be edited and it cannot be removed')
    .option('--unfreeze', 'unfreeze the bundle')
    .option('-w, --worksheet-spec <worksheet>', 'resolve the spec on this worksheet')
    .addHelpText('after', EDIT_EXAMPLES)
    .action(async (spec: string, values: string[], options: EditOptions) => {
      const request = buildRequest(options, values);
      const session = await ctx.session();
      const { uuid } = await resolveTargetText(session, spec, options.worksheetSpec);
      await session.api.json(bundleOpsRoutes.updateBundle(uuid), Bundle, { method: 'PATCH', json: request });
      writeLine(ctx.io.stdout, uuid);
    });
}

function buildRequest(options: EditOptions, values: string[]): UpdateBundleRequest {
  if (options.freeze && options.unfreeze) throw new UserInputError('Give either --freeze or --unfreeze, not both.');
  const frozen = options.freeze ? true : options.unfreeze ? false : undefined;
  const metadata = buildMetadata(options, values);
  if (Object.keys(metadata).length === 0 && frozen === undefined) {
    throw new UserInputError('Nothing to edit: give -n, -d, --tags, -f KEY VALUE, --freeze or --unfreeze.');
  }
  return frozen === undefined ? { metadata } : { metadata, frozen };
}

/** commander gives `-f KEY` the key; the values follow as extra positionals, in order. */
function buildMetadata(options: EditOptions, values: string[]): Metadata {
  const metadata: Metadata = {};
  if (options.name !== undefined) metadata.name = validateBundleName(options.name);
  if (options.description !== undefined) metadata.description = options.description;
  if (options.tags !== undefined) metadata.tags = options.tags;
  const keys = options.field ?? [];
  if (keys.length !== values.length) {
    throw new UserInputError(`Each -f needs a KEY and a VALUE: got ${keys.length} key(s) and ${values.length} value(s).`);
  }
  keys.forEach((key, i) => {
    metadata[key] = key === 'name' ? validateBundleName(values[i] ?? '') : (values[i] ?? '');
  });
  return metadata;
}
