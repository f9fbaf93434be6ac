// Keeps the server's files to the server's own host user: the home and the bundle store are 0700,
// the SQLite database and its -wal and -shm are 0600. Applied on creation and again on every
// start, so a home made by an older version, or loosened by hand, is fixed. Bundle contents keep
// their own modes: the 0700 directories above them are what keeps other host users out.
import { chmod, mkdir, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const PRIVATE_DIR = 0o700;
const PRIVATE_FILE = 0o600;
const DATABASE_SUFFIXES = ['', '-wal', '-shm', '-journal'];

/** Creates (or fixes) the home as 0700 and the database file as 0600, before SQLite opens it. */
export async function secureHome(home: string, databasePath: string | null): Promise<void> {
  await mkdir(home, { recursive: true, mode: PRIVATE_DIR });
  await chmod(home, PRIVATE_DIR);
  if (databasePath === null) return;
  // Created empty with its mode first: SQLite gives the -wal and -shm it creates later the
  // database file's mode, so they are born private too.
  await (await open(databasePath, 'a', PRIVATE_FILE)).close();
  await secureDatabaseFiles(databasePath);
}

/** Sets 0600 on the database and whichever of its -wal, -shm and -journal exist. */
export async function secureDatabaseFiles(databasePath: string): Promise<void> {
  for (const suffix of DATABASE_SUFFIXES) await chmodIfPresent(`${databasePath}${suffix}`, PRIVATE_FILE);
}

/** Sets 0700 on the bundle store's root and the directories directly in it (contents, staging). */
export async function secureStoreDirs(root: string): Promise<void> {
  await chmod(root, PRIVATE_DIR);
  for (const entry of await readdir(root, { withFileTypes: true })) {
    if (entry.isDirectory()) await chmodIfPresent(join(root, entry.name), PRIVATE_DIR);
  }
}

async function chmodIfPresent(path: string, mode: number): Promise<void> {
  try {
    await chmod(path, mode);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}
