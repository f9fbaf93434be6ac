// A private PostgreSQL cluster for one bench, by the recipe of test/support/postgres.ts: initdb in
// a temp dir (as the `postgres` OS user when run as root, since PostgreSQL refuses root), pg_ctl on
// a free port on 127.0.0.1. Stopped and removed when the bench ends, fails or is interrupted
// (Ctrl-C): every step is synchronous so that it also runs in an exit handler.
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onExit } from './bench-support.mjs';
import { readCpuSeconds } from './server-watch.mjs';

const POSTGRES_ROOT = '/usr/lib/postgresql';
const SUPERUSER = 'postgres';

function findPostgresBin() {
  const versions = existsSync(POSTGRES_ROOT)
    ? readdirSync(POSTGRES_ROOT).filter((v) => existsSync(join(POSTGRES_ROOT, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a))
    : [];
  if (versions.length === 0) throw new Error(`PostgreSQL server binaries not found (${POSTGRES_ROOT}/*/bin/initdb): apt-get install postgresql.`);
  return join(POSTGRES_ROOT, versions[0], 'bin');
}

function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/** CPU seconds so far of the postmaster and each process it runs now (backends, writers), by pid. */
function clusterCpuByPid(data) {
  const postmaster = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
  const byPid = new Map([[postmaster, readCpuSeconds(postmaster)]]);
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) byPid.set(Number(entry), readCpuSeconds(Number(entry)));
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return byPid;
}

/**
 * A meter of the cluster's CPU: `read()` is the CPU seconds its processes used since the meter
 * started. A backend that exited meanwhile is not counted (a lower bound); the server's pool
 * keeps its connections while it is not saturated.
 */
function clusterCpuMeter(data) {
  const start = clusterCpuByPid(data);
  return { read: () => [...clusterCpuByPid(data)].reduce((sum, [pid, cpu]) => sum + cpu - (start.get(pid) ?? 0), 0) };
}

/**
 * Starts a cluster with one empty database; resolves to `{ url, stop, cpuMeter }`. `stop` is
 * idempotent and also runs on exit, SIGINT and SIGTERM.
 */
export async function startBenchPostgres() {
  const bin = findPostgresBin();
  const dir = mkdtempSync(join(tmpdir(), 'cl-bench-pg-'));
  const data = join(dir, 'data');
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const asOwner = (command, args) => {
    const [file, argv] = asRoot ? ['runuser', ['-u', SUPERUSER, '--', command, ...args]] : [command, args];
    execFileSync(file, argv, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  let started = false;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    try {
      if (started) asOwner(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    } catch {
      // Already gone: removing its directory is all that is left.
    }
    rmSync(dir, { recursive: true, force: true });
  };
  onExit(stop);
  try {
    if (asRoot) {
      const uid = Number(execFileSync('id', ['-u', SUPERUSER], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', SUPERUSER], { encoding: 'utf8' }).trim());
      chownSync(dir, uid, gid);
    }
    asOwner(join(bin, 'initdb'), ['-A', 'trust', '-U', SUPERUSER, '-D', data, '--no-locale', '-E', 'UTF8']);
    // fsync off as in the tests: the bench measures the server's queries, not this disk's flushes.
    const options = `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    started = true;
    asOwner(join(bin, 'pg_ctl'), ['-D', data, '-o', options, '-l', join(dir, 'postgres.log'), '-w', 'start']);
    asOwner(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', SUPERUSER, 'cl_bench']);
  } catch (error) {
    stop();
    throw new Error(`could not start a private PostgreSQL: ${error.stderr?.toString().trim() || error.message}`);
  }
  return { url: `postgres://${SUPERUSER}@127.0.0.1:${port}/cl_bench`, stop, cpuMeter: () => clusterCpuMeter(data) };
}

/**
 * The database a bench's server runs on (`--database sqlite|postgres`): `url` for the Store and
 * for `cl-server --database-url`, `stop`, and `cpuMeter()` of a separate database server (always 0
 * for SQLite, which runs inside cl-server). SQLite is a file in `home`, as the server's default.
 */
export async function openBenchDatabase(engine, home) {
  if (engine === 'sqlite') return { engine, url: join(home, 'codalab.sqlite'), stop: () => {}, cpuMeter: () => ({ read: () => 0 }) };
  if (engine === 'postgres') return { engine, ...(await startBenchPostgres()) };
  throw new Error(`--database ${engine}: expected sqlite or postgres`);
}
