// A private PostgreSQL cluster for tests: initdb in a temp dir (as the `postgres` OS user when the
// tests run as root, since PostgreSQL refuses to run as root), pg_ctl on a free port on
// 127.0.0.1, a fresh database per call of `createDatabase`, and `stop()` that stops the server and
// removes the directory. Missing binaries fail the test with the fix; they are never a skip.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const exec = promisify(execFile);
const POSTGRES_ROOT = '/usr/lib/postgresql';
const SUPERUSER = 'postgres';

export interface PostgresCluster {
  /** postgres://… of a new, empty database. */
  createDatabase(): Promise<string>;
  stop(): Promise<void>;
}

/** The bin directory of the newest installed PostgreSQL; throws with the fix when there is none. */
export function findPostgresBin(root = POSTGRES_ROOT): string {
  const versions = existsSync(root)
    ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
    : [];
  const newest = versions[0];
  if (newest === undefined) {
    throw new Error(`PostgreSQL server binaries not found (${root}/*/bin/initdb): run scripts/setup.sh, or apt-get install postgresql.`);
  }
  return join(root, newest, 'bin');
}

export async function startPostgres(): Promise<PostgresCluster> {
  const bin = findPostgresBin();
  const dir = await mkdtemp(join(tmpdir(), 'cl-pg-'));
  const asRoot = process.getuid?.() === 0;
  const data = join(dir, 'data');
  const port = await freePort();
  const runAsOwner = async (command: string, args: string[]): Promise<void> => {
    const [file, argv] = asRoot ? ['runuser', ['-u', SUPERUSER, '--', command, ...args]] : [command, args];
    await exec(file, argv, { cwd: dir });
  };
  const pgCtl = join(bin, 'pg_ctl');
  let started = false;
  const stop = async (): Promise<void> => {
    if (started) await runAsOwner(pgCtl, ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {
      // Already gone: removing the directory below is all that is left to do.
    });
    await rm(dir, { recursive: true, force: true });
  };
  try {
    if (asRoot) {
      const { stdout } = await exec('id', ['-u', SUPERUSER]);
      const { stdout: gid } = await exec('id', ['-g', SUPERUSER]);
      await chown(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    await runAsOwner(join(bin, 'initdb'), ['-A', 'trust', '-U', SUPERUSER, '-D', data, '--no-locale', '-E', 'UTF8']);
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`;
    started = true;
    await runAsOwner(pgCtl, ['-D', data, '-o', options, '-l', join(dir, 'postgres.log'), '-w', 'start']);
  } catch (error) {
    await stop();
    throw new Error(`Could not start a private PostgreSQL: ${(error as Error).message}`, { cause: error });
  }
  const base = `postgres://${SUPERUSER}@127.0.0.1:${port}`;
  let count = 0;
  return {
    async createDatabase() {
      const name = `cl_test_${++count}`;
      const admin = new pg.Client({ connectionString: `${base}/postgres` });
      await admin.connect();
      try {
        await admin.query(`CREATE DATABASE ${name}`);
      } finally {
        await admin.end();
      }
      return `${base}/${name}`;
    },
    stop,
  };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}
