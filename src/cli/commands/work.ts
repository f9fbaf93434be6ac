// `cl work [URL::][WORKSHEET]`: show the current worksheet, or select a server (and log in to it)
// and/or a worksheet. `local::` selects the embedded local instance again.
import type { Command } from 'commander';
import { UserInputError } from '../../common/user-input-error.js';
import { ApiError, routes, User, Worksheet } from '../../protocol/index.js';
import { ClientConfigFile, expandAlias } from '../client-config-file.js';
import { terminalText } from '../format/terminal-text.js';
import { writeLine } from '../io.js';
import { openSession, type CliContext, type Session } from '../session.js';
import { LOCAL_INSTANCE } from '../state-store.js';

export const WORK_EXAMPLES = `
Examples:
  cl work                                show the current worksheet
  cl work http://127.0.0.1:2900::        use that server (logs in, then its home worksheet)
  cl work http://127.0.0.1:2900::exp1    use that server and worksheet exp1
  cl work exp1                           switch to worksheet exp1 on the current server
  cl work local::                        go back to the local instance
  cl work dev::exp1                      an alias set with 'cl alias dev URL'
  cl work home                           your home worksheet (unless a worksheet is named home)
  cl work -u                             print only the current worksheet's uuid`;

const HOME_ALIAS = 'home';

export interface WorkTarget {
  /** A server URL, LOCAL_INSTANCE, or undefined to stay on the current one. */
  instance: string | undefined;
  worksheet: string | undefined;
}

/** Splits `[INSTANCE::][WORKSHEET]`; the instance is normalised and checked. */
export function parseWorkTarget(text: string): WorkTarget {
  const at = text.lastIndexOf('::');
  if (at < 0) return { instance: undefined, worksheet: text === '' ? undefined : text };
  const worksheet = text.slice(at + 2);
  return { instance: normalizeInstance(text.slice(0, at)), worksheet: worksheet === '' ? undefined : worksheet };
}

export function normalizeInstance(text: string): string {
  if (text === '' || text === LOCAL_INSTANCE) return LOCAL_INSTANCE;
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UserInputError(`Invalid server address '${text}': expected http://HOST:PORT (or 'local').`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UserInputError(`Invalid server address '${text}': only http:// and https:// are supported.`);
  }
  return `${url.protocol}//${url.host}${url.pathname.replace(/\/+$/, '')}`;
}

export function describeAddress(session: Session): string {
  return session.instance === LOCAL_INSTANCE ? `local (${session.baseUrl})` : session.baseUrl;
}

export function registerWork(program: Command, ctx: CliContext): void {
  program
    .command('work')
    .alias('w')
    .description('Show the current worksheet, or select a server (URL::) and/or a worksheet.')
    .argument('[target]', '[URL::][WORKSHEET]')
    .option('-u, --uuid-only', "print only the worksheet's uuid")
    .addHelpText('after', WORK_EXAMPLES)
    .action(async (target: string | undefined, options: { uuidOnly?: boolean }) =>
      runWork(ctx, parseWorkTarget(expandAlias(target ?? '', new ClientConfigFile(ctx.config.home).aliases())), options.uuidOnly === true),
    );
}

async function runWork(ctx: CliContext, target: WorkTarget, uuidOnly: boolean): Promise<void> {
  const session =
    target.instance === undefined ? await ctx.session() : await openSession(ctx.config, ctx.io, ctx.state, target.instance);
  if (target.instance !== undefined) {
    // Log in (or check the cached token) before remembering the choice, so a typo is not saved.
    await session.api.json(routes.user(), User);
  }
  const worksheet =
    target.worksheet !== undefined
      ? await findWorksheet(session, target.worksheet)
      : await session.currentWorksheetInfo();
  if (target.instance !== undefined) ctx.state.selectInstance(target.instance);
  session.selectWorksheet(worksheet);
  if (uuidOnly) return writeLine(ctx.io.stdout, worksheet.uuid);
  const verb = target.instance === undefined && target.worksheet === undefined ? 'Current' : 'Switched to';
  writeLine(ctx.io.stdout, terminalText(`${verb} worksheet: ${worksheet.name} (${worksheet.uuid}) on ${describeAddress(session)}`));
}

/** `home` is the user's home worksheet unless a worksheet is really named so (CodaLab writes `/`). */
async function findWorksheet(session: Session, spec: string): Promise<Worksheet> {
  if (spec !== HOME_ALIAS) return session.worksheetBySpec(spec);
  try {
    return await session.worksheetBySpec(spec);
  } catch (error) {
    if (error instanceof ApiError && error.code === 'not_found') return session.api.json(routes.homeWorksheet(), Worksheet);
    throw error;
  }
}
