// Groups: `cl gnew`, `cl gls`, `cl ginfo`, `cl grm`, `cl uadd`, `cl urm` (CodaLab's commands). A
// group's creator owns it and is its first admin; admins add and remove members.
import type { Command } from 'commander';
import { Group, GroupInfo, GroupList, groupRoutes } from '../../protocol/index.js';
import { writeJson } from '../format/json-output.js';
import { formatTable } from '../format/table.js';
import { writeLine } from '../io.js';
import type { CliContext } from '../session.js';

export const GROUP_EXAMPLES = `
Examples:
  cl gnew lab                     make group 'lab'; you own it and are its admin
  cl uadd alice lab               add alice to lab (-a: as an admin)
  cl perm ^1 lab read             let lab's members read a bundle
  cl gls                          the groups you are in
  cl ginfo lab                    lab's members and admins
  cl urm alice lab                remove alice (a member may also remove themselves)
  cl grm lab                      delete lab (its owner or root)`;

export function registerGroupCommands(program: Command, ctx: CliContext): void {
  program
    .command('gnew')
    .description('Create a group; you become its owner and first admin.')
    .argument('<name>', 'group name')
    .addHelpText('after', GROUP_EXAMPLES)
    .action(async (name: string) => {
      const session = await ctx.session();
      const group = await session.api.json(groupRoutes.groups(), GroupInfo, { method: 'POST', json: { name } });
      writeLine(ctx.io.stdout, group.uuid);
    });

  program
    .command('gls')
    .description('List the groups you are in (root: every group).')
    .option('--json', 'print the list as JSON')
    .addHelpText('after', GROUP_EXAMPLES)
    .action(async (options: { json?: boolean }) => {
      const session = await ctx.session();
      const { groups } = await session.api.json(groupRoutes.groups(), GroupList);
      if (options.json) return writeJson(ctx.io.stdout, groups);
      if (groups.length === 0) return writeLine(ctx.io.stdout, "(no groups; make one with 'cl gnew NAME')");
      const rows = groups.map((g) => [g.name, g.uuid, g.owner_name ?? '', g.is_admin ? 'yes' : 'no']);
      for (const line of formatTable(['name', 'uuid', 'owner', 'admin'], rows)) writeLine(ctx.io.stdout, line);
    });

  program
    .command('ginfo')
    .description('Show a group and its members (members and root).')
    .argument('<group>', 'group name, uuid or uuid prefix')
    .option('--json', 'print the group as JSON')
    .addHelpText('after', GROUP_EXAMPLES)
    .action(async (spec: string, options: { json?: boolean }) => {
      const session = await ctx.session();
      const group = await session.api.json(groupRoutes.group(spec), GroupInfo);
      if (options.json) return writeJson(ctx.io.stdout, group);
      writeLine(ctx.io.stdout, `group: ${group.name} (${group.uuid}), owner: ${group.owner_name ?? '-'}`);
      const rows = group.members.map((m) => [m.user_name, m.is_admin ? 'admin' : 'member']);
      for (const line of formatTable(['user', 'role'], rows)) writeLine(ctx.io.stdout, line);
    });

  program
    .command('grm')
    .description('Delete a group (its owner or root); what was shared with it is no longer.')
    .argument('<group>', 'group name, uuid or uuid prefix')
    .addHelpText('after', GROUP_EXAMPLES)
    .action(async (spec: string) => {
      const session = await ctx.session();
      const group = await session.api.json(groupRoutes.group(spec), Group, { method: 'DELETE' });
      writeLine(ctx.io.stdout, group.uuid);
    });

  program
    .command('uadd')
    .description("Add a user to a group, or make a member an admin with -a (the group's admins).")
    .argument('<user>', 'user name')
    .argument('<group>', 'group name, uuid or uuid prefix')
    .option('-a, --admin', 'as an admin of the group')
    .addHelpText('after', GROUP_EXAMPLES)
    .action(async (user: string, spec: string, options: { admin?: boolean }) => {
      const session = await ctx.session();
      const group = await session.api.json(groupRoutes.member(spec, user), GroupInfo, { method: 'PUT', json: { is_admin: options.admin === true } });
      writeLine(ctx.io.stderr, `${user} is ${options.admin === true ? 'an admin' : 'a member'} of group ${group.name}.`);
    });

  program
    .command('urm')
    .description("Remove a user from a group (the group's admins; any member may remove themselves).")
    .argument('<user>', 'user name')
    .argument('<group>', 'group name, uuid or uuid prefix')
    .addHelpText('after', GROUP_EXAMPLES)
    .action(async (user: string, spec: string) => {
      const session = await ctx.session();
      const group = await session.api.json(groupRoutes.member(spec, user), GroupInfo, { method: 'DELETE' });
      writeLine(ctx.io.stderr, `${user} is no longer in group ${group.name}.`);
    });
}
