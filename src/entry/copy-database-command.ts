// `cl-server copy-database --from sqlite:PATH --to postgres://...`: moves an SQLite instance into
// a new, empty PostgreSQL database (store/copy-database.ts does the work). Parses its own flags
// with the same rules as --database-url; prints one line, or one error line.
import { Command, CommanderError } from 'commander';
import { commanderUsageMessage, UsageError } from '../common/usage-error.js';
import { copyDatabase, CopyDatabaseError } from '../server/store/copy-database.js';
import { isPostgresUrl, redactDatabaseUrl } from '../server/store/database-url.js';
import { parseDatabaseUrl } from './server-args.js';

export const COPY_DATABASE_COMMAND = 'copy-database';

interface CopyTargets {
  from: string;
  to: string;
}

/** The SQLite path and the PostgreSQL URL, or null when help was asked for (printed already). */
export function parseCopyDatabaseArgs(argv: readonly string[], write: (text: string) => void): CopyTargets | null {
  const program = new Command(`cl-server ${COPY_DATABASE_COMMAND}`)
    .description('Copies an SQLite instance (the server stopped) into a new, empty PostgreSQL database.')
    .requiredOption('--from <url>', 'the SQLite database: sqlite:PATH or a file path')
    .requiredOption('--to <url>', 'the PostgreSQL database: postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE')
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help') {
      write(program.helpInformation());
      return null;
    }
    throw new UsageError(commanderUsageMessage(error.message, `cl-server ${COPY_DATABASE_COMMAND}`));
  }
  const { from, to } = program.opts<CopyTargets>();
  if (isPostgresUrl(from)) throw new UsageError(`--from must name an SQLite database (sqlite:PATH or a file path), not '${redactDatabaseUrl(from)}'.`);
  if (!isPostgresUrl(to)) throw new UsageError(`--to must be a postgres:// or postgresql:// URL, not '${to}'.`);
  return { from: parseDatabaseUrl(from, process.cwd()), to: parseDatabaseUrl(to, process.cwd()) };
}

export async function runCopyDatabase(argv: readonly string[]): Promise<void> {
  try {
    const targets = parseCopyDatabaseArgs(argv, (text) => process.stdout.write(text));
    if (targets === null) return;
    const summary = await copyDatabase(targets.from, targets.to);
    const counts = Object.entries(summary).map(([table, n]) => `${n} ${table}`).join(', ');
    process.stdout.write(`Copied ${targets.from} into ${redactDatabaseUrl(targets.to)}: ${counts}.\n`);
  } catch (error) {
    const message = error instanceof UsageError || error instanceof CopyDatabaseError
      ? error.message
      : `copy failed, the target is unchanged: ${(error as Error).message}; check --from, --to and that PostgreSQL is running.`;
    process.stderr.write(`cl-server ${COPY_DATABASE_COMMAND}: ${message}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  }
}
