// Sharing: `cl perm SPEC... GROUP PERM` and `cl wperm WORKSHEET GROUP PERM` set one group's
// permission (none, read or all; n, r, a for short), and root's `cl chown USER SPEC...`.
import type { Command } from 'commander';
import { UserInputError } from '../../common/user-input-error.js';
import { ChownResponse, PermissionChange, groupRoutes, type Permission } from '../../protocol/index.js';
import { writeLine } from '../io.js';
import { resolveManyTargets } from '../resolve-many.js';
import { worksheetFor } from '../resolve.js';
import type { CliContext } from '../session.js';

export const SHARING_EXAMPLES = `
Examples:
  cl perm ^1 lab read             members of group lab may read the newest bundle
  cl perm ^1-3 public r           everyone may read the three newest bundles
  cl perm data lab none           take lab's permission away again
  cl wperm exp lab all            lab's members may read and change worksheet exp
  cl chown alice ^1               give the newest bundle to alice (root only)

New bundles get the permissions of the worksheet they are added to; a new worksheet is private.`;

const PERMISSIONS: Record<string, Permission> = { n: 'none', none: 'none', r: 'read', read: 'read', a: 'all', all: 'all' };

export function parsePermission(text: string): Permission {
  const permission = PERMISSIONS[text.toLowerCase()];
  if (!permission) throw new UserInputError(`Invalid permission '${text}': use none, read or all (n, r, a).`);
  return permission;
}

export function registerSharingCommands(program: Command, ctx: CliContext): void {
  program
    .command('perm')
    .description("Set a group's permission on bundles: none, read or all.")
    .argument('<args...>', 'bundle specs, then a group (name, uuid or public), then a permission')
    .option('-w, --worksheet-spec <worksheet>', 'resolve specs on this worksheet')
    .addHelpText('after', SHARING_EXAMPLES)
    .action(async (args: string[], options: { worksheetSpec?: string }) => {
      if (args.length < 3) throw new UserInputError('cl perm needs bundle specs, a group and a permission: cl perm SPEC... GROUP PERM.');
      const permission = parsePermission(args[args.length - 1] as string);
      const group = args[args.length - 2] as string;
      const session = await ctx.session();
      const targets = await resolveManyTargets(session, args.slice(0, -2), options.worksheetSpec);
      const json = { uuids: targets.map((t) => t.uuid), group, permission };
      const change = await session.api.json(groupRoutes.bundlePermissions(), PermissionChange, { method: 'POST', json });
      for (const uuid of change.uuids) writeLine(ctx.io.stdout, uuid);
      writeLine(ctx.io.stderr, `Group ${change.group_name} has ${change.permission} on ${change.uuids.length} bundle(s).`);
    });

  program
    .command('wperm')
    .description("Set a group's permission on a worksheet: none, read or all.")
    .argument('<worksheet>', 'worksheet name or uuid')
    .argument('<group>', 'group name, uuid or public')
    .argument('<permission>', 'none, read or all')
    .addHelpText('after', SHARING_EXAMPLES)
    .action(async (worksheet: string, group: string, permissionText: string) => {
      const permission = parsePermission(permissionText);
      const session = await ctx.session();
      const json = { worksheet: await worksheetFor(session, worksheet), group, permission };
      const change = await session.api.json(groupRoutes.worksheetPermissions(), PermissionChange, { method: 'POST', json });
      writeLine(ctx.io.stderr, `Group ${change.group_name} has ${change.permission} on worksheet ${worksheet}.`);
    });

  program
    .command('chown')
    .description('Give bundles to another user (root only).')
    .argument('<user>', 'the new owner')
    .argument('<specs...>', 'bundle specs')
    .option('-w, --worksheet-spec <worksheet>', 'resolve specs on this worksheet')
    .addHelpText('after', SHARING_EXAMPLES)
    .action(async (user: string, specs: string[], options: { worksheetSpec?: string }) => {
      const session = await ctx.session();
      const targets = await resolveManyTargets(session, specs, options.worksheetSpec);
      const answer = await session.api.json(groupRoutes.bundleOwner(), ChownResponse, { method: 'POST', json: { uuids: targets.map((t) => t.uuid), user_name: user } });
      for (const uuid of answer.uuids) writeLine(ctx.io.stdout, uuid);
      writeLine(ctx.io.stderr, `${answer.uuids.length} bundle(s) now belong to ${answer.owner_name}.`);
    });
}
