// A private one-node Slurm for one test file: its own munged (key, socket), slurmctld and slurmd,
// on free ports, with every file in a temp dir. It never touches /etc/slurm, /etc/munge or a Slurm
// already running here. Tests pass `env` (SLURM_CONF) to every Slurm command and call stop().
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { waitFor } from './wait-for.js';

const run = promisify(execFile);
const SBIN = '/usr/sbin';
const DAEMONS = ['munged', 'slurmctld', 'slurmd'] as const;

export interface PrivateSlurm {
  /** The environment for Slurm commands: the test's own, SLURM_* removed, SLURM_CONF set. */
  readonly env: NodeJS.ProcessEnv;
  /** The one partition (the default). */
  readonly partition: string;
  /** The temp dir; jobs may write their output here. */
  readonly dir: string;
  /** Cancels every job, stops the daemons and removes the dir. Safe to call twice. */
  stop(): Promise<void>;
}

export interface PrivateSlurmOptions {
  /** Fake GPUs (null-device nodes) the node offers through GRES; default 0. Needs root. */
  readonly gpus?: number;
}

/** Starts the cluster and waits until its node is idle; on failure stops what it started and throws. */
export async function startPrivateSlurm(options: PrivateSlurmOptions = {}): Promise<PrivateSlurm> {
  requireSlurmInstalled();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'cl-slurm-'));
  const paths = privatePaths(dir);
  const env = slurmEnv(paths.conf);
  const cluster: PrivateSlurm = { env, partition: 'debug', dir, stop: () => stopCluster(dir, env) };
  try {
    await startMunge(paths);
    await writeSlurmConfig(paths, options.gpus ?? 0);
    await run(path.join(SBIN, 'slurmctld'), ['-i', '-f', paths.conf], { env });
    await run(path.join(SBIN, 'slurmd'), ['-f', paths.conf], { env });
    await waitFor(async () => ((await nodeState(env)) === 'idle' ? true : undefined), 60_000, 'the private Slurm node to be idle');
    return cluster;
  } catch (error) {
    const logs = await daemonLogTails(dir);
    await cluster.stop();
    throw new Error(`Private Slurm did not start: ${error instanceof Error ? error.message : String(error)}\n${logs}`, { cause: error });
  }
}

function requireSlurmInstalled(): void {
  const missing = [...DAEMONS.map((name) => path.join(SBIN, name)), '/usr/bin/sbatch', '/usr/bin/munge'].filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new Error(`Slurm is not installed (missing ${missing.join(', ')}): run scripts/setup.sh as root, which installs slurmctld, slurmd, slurm-client and munge.`);
  }
}

interface PrivatePaths {
  readonly dir: string;
  readonly conf: string;
  readonly mungeKey: string;
  readonly mungeSocket: string;
}

function privatePaths(dir: string): PrivatePaths {
  return {
    dir,
    conf: path.join(dir, 'slurm.conf'),
    mungeKey: path.join(dir, 'munge', 'munge.key'),
    mungeSocket: path.join(dir, 'munge', 'munge.socket'),
  };
}

/** Without the caller's SLURM_* variables: inside a Slurm job they would steer sbatch to that job's cluster. */
function slurmEnv(conf: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!key.startsWith('SLURM_')) env[key] = value;
  env['SLURM_CONF'] = conf;
  return env;
}

async function startMunge(paths: PrivatePaths): Promise<void> {
  const mungeDir = path.dirname(paths.mungeKey);
  await mkdir(mungeDir, { mode: 0o700 });
  await writeFile(paths.mungeKey, randomBytes(1024), { mode: 0o600 });
  // --force: munged refuses to run as root otherwise; the tests run as root on these machines.
  await run(path.join(SBIN, 'munged'), [
    '--force',
    `--key-file=${paths.mungeKey}`,
    `--socket=${paths.mungeSocket}`,
    `--pid-file=${path.join(paths.dir, 'munged.pid')}`,
    `--log-file=${path.join(paths.dir, 'munged.log')}`,
    `--seed-file=${path.join(mungeDir, 'munged.seed')}`,
  ]);
  // A credential that round-trips proves munged answers (pgrep would also see one shutting down).
  await waitFor(
    async () => {
      try {
        const { stdout } = await run('munge', ['-n', '-S', paths.mungeSocket]);
        await run('sh', ['-c', 'printf %s "$1" | unmunge -S "$2"', 'sh', stdout, paths.mungeSocket]);
        return true;
      } catch {
        return undefined;
      }
    },
    20_000,
    'the private munged to answer',
  );
}

async function writeSlurmConfig(paths: PrivatePaths, gpus: number): Promise<void> {
  const host = os.hostname().split('.')[0] ?? 'localhost';
  const [controllerPort, nodePort] = [await freePort(), await freePort()];
  const cpus = os.availableParallelism();
  const detectedMiB = await detectedMemoryMiB();
  // Above what slurmd detects the node is drained (INVAL); well below it is harmless.
  const memoryMiB = Math.max(256, detectedMiB - 1024);
  const p = (name: string): string => path.join(paths.dir, name);
  await mkdir(p('ctld'));
  await mkdir(p('slurmd'));
  const lines = [
    'ClusterName=cltest',
    `SlurmctldHost=${host}(127.0.0.1)`,
    'SlurmUser=root',
    'SlurmdUser=root',
    `SlurmctldPort=${controllerPort}`,
    `SlurmdPort=${nodePort}`,
    'AuthType=auth/munge',
    'CredType=cred/munge',
    `AuthInfo=socket=${paths.mungeSocket}`,
    `StateSaveLocation=${p('ctld')}`,
    `SlurmdSpoolDir=${p('slurmd')}`,
    `SlurmctldPidFile=${p('slurmctld.pid')}`,
    `SlurmdPidFile=${p('slurmd.pid')}`,
    `SlurmctldLogFile=${p('slurmctld.log')}`,
    `SlurmdLogFile=${p('slurmd.log')}`,
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'MpiDefault=none',
    'SwitchType=switch/none',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_Core_Memory',
    'SchedulerType=sched/backfill',
    // The defaults wait 3 s per scheduling wave; tests would spend most of their time there.
    'SchedulerParameters=batch_sched_delay=0,sched_min_interval=0',
    'ReturnToService=2',
    'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none',
    'JobCompType=jobcomp/none',
    'MinJobAge=300',
    'KillWait=5',
    'InactiveLimit=0',
    'Waittime=0',
    ...(gpus > 0 ? ['GresTypes=gpu'] : []),
    `NodeName=${host} NodeAddr=127.0.0.1 CPUs=${cpus} RealMemory=${memoryMiB}${gpus > 0 ? ` Gres=gpu:${gpus}` : ''} State=UNKNOWN`,
    `PartitionName=debug Nodes=${host} Default=YES MaxTime=INFINITE State=UP DefMemPerCPU=256`,
  ];
  await writeFile(paths.conf, `${lines.join('\n')}\n`);
  if (gpus > 0) await writeFakeGpus(paths.dir, host, gpus);
}

/** GRES needs device files that exist; null-device nodes in the temp dir stand in for GPUs. */
async function writeFakeGpus(dir: string, host: string, gpus: number): Promise<void> {
  for (let i = 0; i < gpus; i++) await run('mknod', [path.join(dir, `fakegpu${i}`), 'c', '1', '3']);
  await writeFile(path.join(dir, 'gres.conf'), `NodeName=${host} Name=gpu File=${path.join(dir, 'fakegpu')}[0-${gpus - 1}]\n`);
}

async function detectedMemoryMiB(): Promise<number> {
  const { stdout } = await run(path.join(SBIN, 'slurmd'), ['-C']);
  const match = /RealMemory=(\d+)/.exec(stdout);
  if (match?.[1] === undefined) throw new Error(`slurmd -C printed no RealMemory: ${stdout.trim()}`);
  return Number(match[1]);
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

async function nodeState(env: NodeJS.ProcessEnv): Promise<string | undefined> {
  try {
    const { stdout } = await run('sinfo', ['--noheader', '--format=%T'], { env, timeout: 10_000 });
    return stdout.trim();
  } catch {
    return undefined;
  }
}

async function stopCluster(dir: string, env: NodeJS.ProcessEnv): Promise<void> {
  if (!existsSync(dir)) return;
  // Jobs outlive slurmd (slurmstepd runs on its own), so end them while the controller can.
  const user = os.userInfo().username;
  await run('scancel', [`--user=${user}`], { env, timeout: 10_000 }).catch(() => undefined);
  await waitFor(
    async () => {
      const listed = await run('squeue', ['--noheader', `--user=${user}`, '--format=%i'], { env, timeout: 10_000 }).catch(() => ({ stdout: '' }));
      return listed.stdout.trim() === '' ? true : undefined;
    },
    30_000,
    'the private Slurm jobs to end',
  ).catch(() => undefined);
  for (const daemon of ['slurmd', 'slurmctld', 'munged'] as const) await stopDaemon(path.join(dir, `${daemon}.pid`));
  await rm(dir, { recursive: true, force: true });
}

async function stopDaemon(pidFile: string): Promise<void> {
  const pid = Number((await readFile(pidFile, 'utf8').catch(() => '')).trim());
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return; // already gone
  }
  await waitFor(() => (isRunning(pid) ? undefined : true), 30_000, `process ${pid} (${path.basename(pidFile)}) to exit`);
}

/** A daemon orphaned to a PID 1 that does not reap stays a zombie; that counts as gone. */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

async function daemonLogTails(dir: string): Promise<string> {
  const tails: string[] = [];
  for (const name of ['munged.log', 'slurmctld.log', 'slurmd.log']) {
    const text = await readFile(path.join(dir, name), 'utf8').catch(() => '');
    if (text !== '') tails.push(`--- ${name}\n${text.trimEnd().split('\n').slice(-10).join('\n')}`);
  }
  return tails.join('\n');
}
