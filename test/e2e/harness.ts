// End-to-end harness: a real cl-server on a loopback port in a temp home, real cl-worker
// processes, and `bin/cl` run as a subprocess with its own CODALAB_HOME, exactly as a user would.
// Everything it starts is stopped by `stop()` (call it in afterAll), which also removes the
// containers its workers left behind; logs stay in the temp dir and are printed by
// `describeLogs()` when a test needs them. Fault tests also kill and restart its processes.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { WORK_DIR_LABEL } from '../../src/worker/docker/container-runtime.js';
import { waitFor } from '../support/wait-for.js';

export { waitFor };

export const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const DEFAULT_IMAGE = 'codalab/default-cpu:latest';
const START_TIMEOUT_MS = 60_000;
const run = promisify(execFile);

export interface ClResult {
  code: number;
  stdout: string;
  /** stdout exactly as written, for binary contents. */
  stdoutBytes: Buffer;
  stderr: string;
}

export interface ClOptions {
  /** Extra or overriding environment variables (undefined removes one). */
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
  /** Written to cl's standard input, which is then closed (by default it is empty). */
  input?: string | Buffer;
}

export interface WorkerOptions {
  id: string;
  tag?: string;
  /** Default: `<root>/work-<id>`. Name one to restart a worker on the same work dir (any id). */
  workDir?: string;
  extraArgs?: string[];
}

export class Cluster {
  readonly root: string;
  readonly serverHome: string;
  readonly clHome: string;
  readonly rootPassword = 'e2e-root-password';
  url = '';
  /** The running (or last started) cl-server. */
  server: ChildProcess | undefined;
  private serverArgs: string[] = [];
  private readonly children: { name: string; child: ChildProcess; log: string }[] = [];
  private readonly workDirs = new Set<string>();

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'cl-e2e-'));
    this.serverHome = join(this.root, 'server');
    this.clHome = join(this.root, 'cl-home');
  }

  /** Starts `cl-server --home H --port 0` and waits for H/address.json. */
  async startServer(extraArgs: string[] = []): Promise<string> {
    this.serverArgs = extraArgs;
    return this.launchServer('0');
  }

  /**
   * Starts cl-server again on the same home, port and flags, after the last one ended (kill it
   * first with `killServer`). The same port keeps running workers pointed at it.
   */
  async restartServer(): Promise<string> {
    if (this.server === undefined || !hasExited(this.server)) throw new Error('restartServer: the server is still running; kill it first');
    return this.launchServer(new URL(this.url).port);
  }

  /** Starts `cl-worker --server URL --work-dir W --id ID [--tag T]`, logged in as root. */
  startWorker(options: WorkerOptions): ChildProcess {
    const workDir = options.workDir ?? this.workDirFor(options.id);
    this.workDirs.add(workDir);
    const args = ['--server', this.url, '--work-dir', workDir, '--id', options.id];
    if (options.tag !== undefined) args.push('--tag', options.tag);
    return this.spawnLogged(`worker-${options.id}`, join(REPO_ROOT, 'bin', 'cl-worker'), [
      ...args,
      ...(options.extraArgs ?? []),
    ]);
  }

  /** Starts `cl-worker-manager BACKEND ...` against this cluster's server, logged in as root (from the environment). */
  startWorkerManager(backend: string, extraArgs: string[] = [], extraEnv: Record<string, string> = {}): ChildProcess {
    return this.spawnLogged(`worker-manager-${backend}`, join(REPO_ROOT, 'bin', 'cl-worker-manager'), [backend, '--server', this.url, ...extraArgs], extraEnv);
  }

  /** The work dir `startWorker` gives a worker with this id unless told another. */
  workDirFor(id: string): string {
    return join(this.root, `work-${id}`);
  }

  /** Sends `signal` to the server and waits until it has exited. */
  async killServer(signal: NodeJS.Signals): Promise<void> {
    if (this.server === undefined) throw new Error('killServer: no server was started');
    await this.killAndWait(this.server, signal);
  }

  /** Sends `signal` to a process this cluster started and waits until it has exited. */
  async killAndWait(child: ChildProcess, signal: NodeJS.Signals): Promise<void> {
    if (hasExited(child)) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill(signal);
    await exited;
  }

  /** Runs `bin/cl ARGS` as a subprocess with this cluster's CODALAB_HOME and root credentials. */
  cl(args: string[], options: ClOptions = {}): Promise<ClResult> {
    const env = this.baseEnv();
    for (const [key, value] of Object.entries(options.env ?? {})) {
      if (value === undefined) delete env[key];
      else env[key] = value;
    }
    return new Promise((resolve, reject) => {
      const child = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'cl'), ...args], {
        cwd: options.cwd ?? this.root,
        env,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
      child.stdin.end(options.input ?? '');
      const stdout: Buffer[] = [];
      let stderr = '';
      child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
      child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`cl ${args.join(' ')} did not finish in ${options.timeoutMs ?? 60_000} ms; stderr: ${stderr}`));
      }, options.timeoutMs ?? 60_000);
      child.on('error', reject);
      child.on('close', (code) => {
        clearTimeout(timer);
        const bytes = Buffer.concat(stdout);
        resolve({ code: code ?? -1, stdout: bytes.toString('utf8'), stdoutBytes: bytes, stderr });
      });
    });
  }

  /** Runs cl and insists on success; returns stdout without the trailing newline. */
  async clOk(args: string[], options: ClOptions = {}): Promise<string> {
    const result = await this.cl(args, options);
    if (result.code !== 0) {
      throw new Error(`cl ${args.join(' ')} exited ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
    }
    return result.stdout.replace(/\n$/, '');
  }

  /** Polls `cl info -f state` until the bundle reaches one of `states`. */
  async waitForState(uuid: string, states: string[], timeoutMs = 90_000): Promise<string> {
    return waitFor(
      async () => {
        const state = await this.clOk(['info', '-f', 'state', uuid]);
        return states.includes(state) ? state : undefined;
      },
      timeoutMs,
      `${uuid} to reach ${states.join('|')}`,
    );
  }

  /**
   * A bearer token from the server's token route (root by default), for tests that speak REST;
   * with `clientId` codalab_worker_client, a worker token (worker routes only).
   */
  async token(username = 'codalab', password = this.rootPassword, clientId?: string): Promise<string> {
    const answer = await fetch(`${this.url}/rest/oauth2/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ grant_type: 'password', username, password, ...(clientId === undefined ? {} : { client_id: clientId }) }),
    });
    if (!answer.ok) throw new Error(`Cannot log in as ${username}: ${answer.status} ${await answer.text()}`);
    return ((await answer.json()) as { access_token: string }).access_token;
  }

  describeLogs(): string {
    return this.children
      .map(({ name, log }) => `--- ${name} (${log})\n${safeRead(log).slice(-4000)}`)
      .join('\n');
  }

  /**
   * Stops every process this cluster started (SIGTERM, then SIGKILL after a grace period), then
   * removes every container of its workers' work dirs: a worker stopped by SIGTERM leaves its
   * running containers behind for the next worker on that work dir to re-attach.
   */
  async stop(): Promise<void> {
    await Promise.all(this.children.map(({ child }) => stopProcess(child)));
    const leftovers = await this.containers();
    if (leftovers.length > 0) await run('docker', ['rm', '-f', ...leftovers]);
  }

  /** Ids of the containers (running or not) labelled with one of this cluster's work dirs. */
  async containers(): Promise<string[]> {
    const ids: string[] = [];
    for (const workDir of this.workDirs) {
      // The label's value is the directory of the run dirs, `<work dir>/runs`.
      const label = `${WORK_DIR_LABEL}=${join(workDir, 'runs')}`;
      const { stdout } = await run('docker', ['ps', '-aq', '--no-trunc', '--filter', `label=${label}`]);
      ids.push(...stdout.split('\n').filter(Boolean));
    }
    return ids;
  }

  /** The environment bin/cl runs with: this cluster's CODALAB_HOME and root credentials. */
  baseEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const key of ['PATH', 'HOME', 'TMPDIR', 'LANG']) {
      const value = process.env[key];
      if (value !== undefined) env[key] = value;
    }
    return {
      ...env,
      CODALAB_HOME: this.clHome,
      CODALAB_USERNAME: 'codalab',
      CODALAB_PASSWORD: this.rootPassword,
      CODALAB_ROOT_PASSWORD: this.rootPassword,
    };
  }

  private async launchServer(port: string): Promise<string> {
    const child = this.spawnLogged('server', join(REPO_ROOT, 'bin', 'cl-server'), [
      '--home',
      this.serverHome,
      '--port',
      port,
      ...this.serverArgs,
    ]);
    this.server = child;
    const addressFile = join(this.serverHome, 'address.json');
    const address = await waitFor(async () => {
      if (child.exitCode !== null) throw new Error(`cl-server exited with ${child.exitCode}:\n${this.describeLogs()}`);
      const text = await readFile(addressFile, 'utf8').catch(() => null);
      if (text === null) return undefined;
      const parsed = JSON.parse(text) as { url: string; pid: number };
      return parsed.pid === child.pid ? parsed : undefined;
    }, START_TIMEOUT_MS, 'the server to write address.json');
    this.url = address.url;
    return this.url;
  }

  private spawnLogged(name: string, bin: string, args: string[], extraEnv: Record<string, string> = {}): ChildProcess {
    // A restarted process gets its own log, so the one before the fault is kept.
    const starts = this.children.filter((c) => c.name === name || c.name.startsWith(`${name}#`)).length;
    const log = join(this.root, `${starts === 0 ? name : `${name}#${starts + 1}`}.log`);
    const out = createWriteStream(log);
    const child = spawn(process.execPath, [bin, ...args], { cwd: this.root, env: { ...this.baseEnv(), ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.pipe(out);
    child.stderr?.pipe(out);
    this.children.push({ name: starts === 0 ? name : `${name}#${starts + 1}`, child, log });
    return child;
  }
}

function hasExited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (hasExited(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timedOut = await Promise.race([exited.then(() => false), sleep(10_000).then(() => true)]);
  if (timedOut) {
    child.kill('SIGKILL');
    await exited;
  }
}

function safeRead(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return '';
  }
}
