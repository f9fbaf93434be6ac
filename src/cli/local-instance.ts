// The embedded default instance (DESIGN.md section 2): a cl-server with an embedded worker,
// started once in the background under $CODALAB_HOME/local and shared by every later `cl` call.
// Contract with the server: once listening it writes server/address.json {url, pid}, and its
// root password to server/root-password (one line, mode 600). `cl local stop` stops it with
// SIGTERM (the server then stops its worker), and SIGKILL only if it outlives STOP_TIMEOUT_MS.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { get } from 'node:http';
import { readFile, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { ROOT_USER_NAME } from '../protocol/index.js';
import type { CliConfig } from './config.js';
import { isProcessAlive, withFileLock } from './file-lock.js';
import { isNotFound } from './state-store.js';

const START_TIMEOUT_MS = 90_000;
/** A graceful stop waits for the embedded worker to stop its runs' containers. */
const STOP_TIMEOUT_MS = 60_000;

export const ServerAddress = z.object({ url: z.string().url(), pid: z.number().int().positive() });
export type ServerAddress = z.infer<typeof ServerAddress>;

export interface LocalPaths {
  dir: string;
  serverHome: string;
  logFile: string;
  addressFile: string;
  passwordFile: string;
  lockFile: string;
}

export interface LocalInstance extends ServerAddress {
  paths: LocalPaths;
}

export function localPaths(home: string): LocalPaths {
  const dir = join(home, 'local');
  const serverHome = join(dir, 'server');
  return {
    dir,
    serverHome,
    logFile: join(dir, 'server.log'),
    addressFile: join(serverHome, 'address.json'),
    passwordFile: join(serverHome, 'root-password'),
    lockFile: join(dir, 'start.lock'),
  };
}

/** The running local server, if there is one that answers; starts nothing. */
export async function findLocalInstance(home: string): Promise<LocalInstance | undefined> {
  const paths = localPaths(home);
  const address = await readAddress(paths.addressFile);
  if (!address || !isProcessAlive(address.pid) || !(await answers(address.url))) return undefined;
  return { ...address, paths };
}

/** Returns the running local server, starting one (at most one across concurrent calls). */
export async function ensureLocalInstance(config: CliConfig, note: (line: string) => void): Promise<LocalInstance> {
  const running = await findLocalInstance(config.home);
  if (running) return running;
  const paths = localPaths(config.home);
  mkdirSync(paths.serverHome, { recursive: true, mode: 0o700 });
  const result = await withFileLock(
    paths.lockFile,
    { timeoutMs: START_TIMEOUT_MS, staleMs: START_TIMEOUT_MS, whileWaiting: () => findLocalInstance(config.home) },
    async () => (await findLocalInstance(config.home)) ?? startServer(config, paths, note),
  );
  return result.value;
}

async function startServer(config: CliConfig, paths: LocalPaths, note: (line: string) => void): Promise<LocalInstance> {
  await unlink(paths.addressFile).catch(() => undefined);
  note(`Starting the local CodaLab server (log: ${paths.logFile})...`);
  const log = openSync(paths.logFile, 'a', 0o600);
  const child = spawn(
    config.nodeBin,
    [config.serverBin, '--with-worker', '--home', paths.serverHome, '--port', '0'],
    { detached: true, stdio: ['ignore', log, log], env: { ...config.childEnv }, cwd: paths.dir },
  );
  closeSync(log);
  let exit: string | undefined;
  child.on('exit', (code, signal) => {
    exit = signal ? `signal ${signal}` : `status ${code ?? '?'}`;
  });
  child.on('error', (error) => {
    exit = error.message;
  });
  child.unref();
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exit !== undefined) {
      throw new Error(`The local server exited (${exit}) before it was ready; see ${paths.logFile}.`);
    }
    const address = await readAddress(paths.addressFile);
    if (address && address.pid === child.pid && (await answers(address.url))) return { ...address, paths };
    await sleep(100);
  }
  throw new Error(`The local server did not start within ${START_TIMEOUT_MS / 1000}s; see ${paths.logFile}.`);
}

export interface StoppedInstance {
  pid: number;
  /** True when SIGTERM was not enough within STOP_TIMEOUT_MS and the server was killed. */
  killed: boolean;
}

/** Stops the running local server; undefined when none was running. */
export async function stopLocalInstance(home: string): Promise<StoppedInstance | undefined> {
  const running = await findLocalInstance(home);
  if (!running) return undefined;
  const { pid } = running;
  signal(pid, 'SIGTERM');
  if (await waitForExit(pid, STOP_TIMEOUT_MS)) return { pid, killed: false };
  signal(pid, 'SIGKILL');
  if (await waitForExit(pid, 10_000)) return { pid, killed: true };
  throw new Error(`The local server (pid ${pid}) did not stop, even after SIGKILL; see ${running.paths.logFile}.`);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    if (!(error instanceof Error && 'code' in error && error.code === 'ESRCH')) throw error; // ESRCH: already gone
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 50; Date.now() < deadline; delay = Math.min(delay * 2, 500)) {
    if (await hasExited(pid)) return true;
    await sleep(delay);
  }
  return hasExited(pid);
}

/** Gone, or a zombie: the server was started detached, and its new parent may never reap it. */
async function hasExited(pid: number): Promise<boolean> {
  if (!isProcessAlive(pid)) return true;
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
  // Field 3, after the parenthesised command name (which may itself hold spaces or parentheses).
  return stat !== null && stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
}

async function readAddress(file: string): Promise<ServerAddress | undefined> {
  try {
    const parsed = ServerAddress.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined; // missing or half-written: not ready yet
  }
}

/** True when anything answers HTTP at the URL (any status, even 401). */
/** Whether an HTTP server answers at `url` (any status: it is up). */
function answers(url: string): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get(`${url.replace(/\/+$/, '')}/rest/user`, { signal: AbortSignal.timeout(3000) }, (response) => {
      response.resume();
      resolve(true);
    });
    request.once('error', () => resolve(false));
  });
}

export async function readLocalCredentials(instance: LocalInstance): Promise<{ username: string; password: string }> {
  try {
    const password = (await readFile(instance.paths.passwordFile, 'utf8')).split('\n')[0] ?? '';
    return { username: ROOT_USER_NAME, password };
  } catch (error) {
    if (!isNotFound(error)) throw error;
    throw new Error(
      `The local server did not write its root password to ${instance.paths.passwordFile}; see ${instance.paths.logFile}.`,
      { cause: error },
    );
  }
}
