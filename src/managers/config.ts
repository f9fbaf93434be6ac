// cl-worker-manager's configuration: `cl-worker-manager BACKEND [flags]`, parsed once from flags
// and environment into a frozen object that is passed down. Nothing below main reads process.env.
// Flag values are parsed in flag-values.ts; the only I/O is reading the password file.
import { normalizeServerUrl, parseCount, parsePositiveSeconds } from '../common/flag-values.js';
import path from 'node:path';
import { Command, CommanderError } from 'commander';
import { credentialsFromEnv, readPasswordFile, type Credentials } from '../common/credentials.js';
import { parseLogFormat, type LogFormat } from '../common/log.js';
import { commanderUsageMessage, UsageError } from '../common/usage-error.js';
import type { ScalingPolicy } from './decide-workers.js';
import {
  parseBytes,
  parseJobNamePrefix,
  parseManagerName,
  parseNodeSelector,
  parseQueue,
  parseTimeLimit,
  parseUsers,
} from './flag-values.js';

export const DEFAULT_WORKER_IMAGE = 'codalab/default-cpu:latest';

export interface DockerBackendConfig {
  kind: 'docker';
  /** Image of the worker containers: any glibc Linux; Node and cl-worker come from this host. */
  image: string;
  dockerSocket: string;
  /** Absolute; each worker's work dir is a directory below it, at the same path inside and out. */
  workDirRoot: string;
  nodeBinary: string;
  /** This repository's root (holding bin/cl-worker and dist/), mounted read-only. */
  codalabRoot: string;
}

export interface KubernetesBackendConfig {
  kind: 'kubernetes';
  /** Image of the worker pods; it must have `cl-worker` (see --worker-command). */
  image: string;
  workerCommand: string;
  namespace: string;
  /** API server URL; null = the kubeconfig ($KUBECONFIG, ~/.kube/config or in-cluster). */
  apiServer: string | null;
  /** Bearer token for --api-server, read from a file. */
  token: string | null;
  kubeconfig: string | null;
  nodeSelector: Readonly<Record<string, string>>;
  /** Host path of the work dirs (mounted at the same path: runs are the node's Docker containers). */
  workDirRoot: string;
  dockerSocket: string;
}

export interface SlurmBackendConfig {
  kind: 'slurm-batch';
  /** null = the cluster's default partition. */
  partition: string | null;
  /** null = the partition's limit. */
  timeLimitMinutes: number | null;
  /** Before each worker id in job names; the manager finds its jobs by PREFIX + --name + '-'. */
  jobNamePrefix: string;
  /** Absolute; holds the password file the jobs read (mode 600). Compute nodes must see it. */
  credentialsDir: string;
  /** Absolute; each worker's work dir (and its Slurm output) is a directory below it. */
  workDirRoot: string;
  /** Node and this checkout, at paths the compute nodes see (a shared file system, or one node). */
  nodeBinary: string;
  codalabRoot: string;
}

export type BackendConfig = DockerBackendConfig | KubernetesBackendConfig | SlurmBackendConfig;

export interface ManagerConfig {
  serverUrl: string;
  credentials: Credentials;
  name: string;
  policy: ScalingPolicy;
  idleSeconds: number;
  exitAfterNumRuns: number | null;
  sleepSeconds: number;
  verbose: boolean;
  logFormat: LogFormat;
  backend: BackendConfig;
}

export interface ManagerHostFacts {
  cwd: string;
  nodeBinary: string;
  codalabRoot: string;
  /** The manager's home directory (the slurm-batch password file goes below it by default). */
  homeDir: string;
  /** Reads a file's text (the Kubernetes token file). */
  readText: (file: string) => string;
}

export type ParsedManagerArgs = { kind: 'config'; config: ManagerConfig } | { kind: 'help'; text: string };

const BACKENDS = 'docker, kubernetes, slurm-batch';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function addCommonOptions(command: Command): Command {
  return command
    .option('--server <url>', 'server URL', 'http://127.0.0.1:2900')
    .option('--password-file <file>', "the manager's credentials: username on line 1, password on line 2 (mode 600); else CODALAB_USERNAME and CODALAB_PASSWORD")
    .option('--name <name>', 'labels the workers this manager starts and begins their ids', 'codalab-worker')
    .option('--queue <queue>', 'serve runs of this --request-queue (workers get --tag QUEUE --tag-exclusive); default: runs naming no queue')
    .option('--tag <queue>', 'the same as --queue')
    .option('--user <names>', "serve only these users' runs (comma-separated, repeatable; root only sees others' runs)", collect, [])
    .option('--min-workers <n>', 'keep at least this many workers (these do not exit when idle)', '0')
    .option('--max-workers <n>', 'never have more workers than this', '10')
    .option('--sleep-time <s>', 'seconds between rounds', '10')
    .option('--cpus <n>', 'CPUs of the smallest worker; a run asking more gets a worker its size', '1')
    .option('--gpus <n>', 'GPUs of the smallest worker', '0')
    .option('--memory <size>', 'memory of the smallest worker', '2g')
    .option('--max-cpus <n>', 'largest worker in CPUs: runs asking more are left to others')
    .option('--max-gpus <n>', 'largest worker in GPUs')
    .option('--max-memory <size>', 'largest worker in memory')
    .option('--worker-idle-seconds <s>', 'a worker started for runs exits after being idle this long', '60')
    .option('--exit-after-num-runs <n>', 'each worker takes at most N runs, then exits')
    .option('--pending-timeout <s>', 'give up on (remove) a worker that has not checked in after this long', '300')
    .option('--verbose', 'debug logging', false)
    .option('--log-format <format>', 'text or json', 'text');
}

function buildProgram(host: ManagerHostFacts): { program: Command; backends: Command[] } {
  const program = new Command('cl-worker-manager')
    .description(`Starts cl-workers where staged runs need them, and lets them exit when idle. Backends: ${BACKENDS}.`)
    .usage('BACKEND [flags]')
    .helpOption('-h, --help', 'show this help')
    .helpCommand(false)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  const docker = addCommonOptions(program.command('docker').description('each worker is a Docker container on this host'))
    .option('--image <image>', "worker containers' image (glibc Linux; this host's Node and cl-worker are mounted in)", DEFAULT_WORKER_IMAGE)
    .option('--docker-socket <path>', 'Docker Engine API socket', '/var/run/docker.sock')
    .option('--work-dir <dir>', "workers' work dirs go below it", 'codalab-worker-manager-scratch')
    .option('--node <path>', 'Node binary mounted into worker containers', host.nodeBinary)
    .option('--codalab-root <dir>', 'this CodaLab checkout (bin/cl-worker, dist/), mounted read-only', host.codalabRoot);
  const kubernetes = addCommonOptions(program.command('kubernetes').description('each worker is a Kubernetes pod'))
    .requiredOption('--image <image>', "worker pods' image; it must have cl-worker (see --worker-command)")
    .option('--worker-command <path>', 'cl-worker inside the image', 'cl-worker')
    .option('--namespace <ns>', 'namespace of the pods and their Secret', 'default')
    .option('--api-server <url>', 'Kubernetes API server (with --token-file); default: the kubeconfig')
    .option('--token-file <file>', 'bearer token for --api-server')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG, ~/.kube/config, or in-cluster)')
    .option('--node-selector <key=value>', 'schedule pods only on nodes with this label (repeatable)', collect, [])
    .option('--work-dir <dir>', "host path of the workers' work dirs on each node", '/var/lib/codalab-workers')
    .option('--docker-socket <path>', "host path of each node's Docker socket", '/var/run/docker.sock');
  const slurm = addCommonOptions(program.command('slurm-batch').description('each worker is a Slurm batch job (sbatch), tracked with squeue'))
    .option('--partition <name>', "Slurm partition of the jobs (default: the cluster's default)")
    .option('--time-limit <time>', "each job's time limit: minutes or D-HH:MM:SS (default: the partition's)")
    .option('--job-name-prefix <prefix>', 'put before each worker id (which begins with --name) in job names', '')
    .option('--credentials-dir <dir>', "where the password file the jobs read is written (mode 600); compute nodes must see it (default: ~/.codalab/worker-manager-NAME)")
    .option('--work-dir <dir>', "workers' work dirs and Slurm output go below it; compute nodes must see it", 'codalab-worker-manager-scratch')
    .option('--node <path>', 'Node binary the jobs run', host.nodeBinary)
    .option('--codalab-root <dir>', 'this CodaLab checkout (bin/cl-worker, dist/) as compute nodes see it', host.codalabRoot);
  for (const command of [docker, kubernetes, slurm]) command.allowExcessArguments(false);
  return { program, backends: [docker, kubernetes, slurm] };
}

interface CommonOptions {
  server: string;
  passwordFile?: string;
  name: string;
  queue?: string;
  tag?: string;
  user: string[];
  minWorkers: string;
  maxWorkers: string;
  sleepTime: string;
  cpus: string;
  gpus: string;
  memory: string;
  maxCpus?: string;
  maxGpus?: string;
  maxMemory?: string;
  workerIdleSeconds: string;
  exitAfterNumRuns?: string;
  pendingTimeout: string;
  verbose: boolean;
  logFormat: string;
  workDir: string;
  dockerSocket: string;
  image: string;
}

/** Parses `argv` (after the program name) into a frozen config, or the help text. */
export function parseManagerArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  host: ManagerHostFacts,
): ParsedManagerArgs {
  const { program, backends } = buildProgram(host);
  if (argv.length === 0) throw new UsageError(`Name a backend: cl-worker-manager BACKEND [flags], BACKEND one of ${BACKENDS} (see cl-worker-manager --help).`);
  let help: Command | null = null;
  for (const command of [program, ...backends]) {
    command.configureOutput({ writeOut: () => (help = command), writeErr: () => {} });
  }
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help') {
        const shown = help ?? program;
        const text = shown.helpInformation();
        return { kind: 'help', text: shown === program ? `${text}\nEach backend's flags: cl-worker-manager BACKEND --help\n` : text };
      }
      if (error.code === 'commander.unknownCommand' || error.code === 'commander.excessArguments') {
        throw new UsageError(`Unknown backend '${argv[0]}': use one of ${BACKENDS} (see cl-worker-manager --help).`);
      }
      throw new UsageError(commanderUsageMessage(error.message, 'cl-worker-manager'));
    }
    throw error;
  }
  const backend = backends.find((b) => b.name() === argv[0]);
  if (backend === undefined) throw new UsageError(`Unknown backend '${argv[0]}': use one of ${BACKENDS} (see cl-worker-manager --help).`);
  return { kind: 'config', config: toConfig(backend, env, host) };
}

function toConfig(command: Command, env: Readonly<Record<string, string | undefined>>, host: ManagerHostFacts): ManagerConfig {
  const o = command.opts<CommonOptions>();
  if (o.queue !== undefined && o.tag !== undefined && o.queue !== o.tag) {
    throw new UsageError(`--queue ${o.queue} and --tag ${o.tag} disagree: give one of them.`);
  }
  const queueText = o.queue ?? o.tag;
  const minWorkers = parseCount('--min-workers', o.minWorkers, 0);
  const maxWorkers = parseCount('--max-workers', o.maxWorkers, 1);
  if (minWorkers > maxWorkers) throw new UsageError(`--min-workers ${minWorkers} is more than --max-workers ${maxWorkers}.`);
  const policy: ScalingPolicy = {
    minWorkers,
    maxWorkers,
    queue: queueText === undefined ? null : parseQueue(queueText),
    users: parseUsers(o.user),
    baseShape: { cpus: parseCount('--cpus', o.cpus, 1), gpus: parseCount('--gpus', o.gpus, 0), memoryBytes: parseBytes('--memory', o.memory) },
    maxShape: {
      cpus: o.maxCpus === undefined ? null : parseCount('--max-cpus', o.maxCpus, 1),
      gpus: o.maxGpus === undefined ? null : parseCount('--max-gpus', o.maxGpus, 0),
      memoryBytes: o.maxMemory === undefined ? null : parseBytes('--max-memory', o.maxMemory),
    },
    pendingTimeoutMs: parsePositiveSeconds('--pending-timeout', o.pendingTimeout) * 1000,
  };
  const settings = {
    serverUrl: normalizeServerUrl(o.server),
    name: parseManagerName(o.name),
    policy,
    idleSeconds: parsePositiveSeconds('--worker-idle-seconds', o.workerIdleSeconds),
    exitAfterNumRuns: o.exitAfterNumRuns === undefined ? null : parseCount('--exit-after-num-runs', o.exitAfterNumRuns, 1),
    sleepSeconds: parsePositiveSeconds('--sleep-time', o.sleepTime),
    verbose: o.verbose,
    logFormat: parseLogFormat(o.logFormat),
    backend: backendConfig(command, host, parseManagerName(o.name)),
  };
  // Credentials last, so that a bad flag is reported before a missing password.
  const credentials = o.passwordFile ? readPasswordFile(o.passwordFile) : credentialsFromEnv(env);
  return Object.freeze({ ...settings, credentials });
}

function backendConfig(command: Command, host: ManagerHostFacts, managerName: string): BackendConfig {
  const o = command.opts<CommonOptions & Record<string, unknown>>();
  const workDirRoot = path.resolve(host.cwd, o.workDir);
  if (command.name() === 'slurm-batch') {
    const credentialsDir = typeof o.credentialsDir === 'string' ? o.credentialsDir : path.join(host.homeDir, '.codalab', `worker-manager-${managerName}`);
    return {
      kind: 'slurm-batch',
      partition: typeof o.partition === 'string' ? o.partition : null,
      timeLimitMinutes: typeof o.timeLimit === 'string' ? parseTimeLimit(o.timeLimit) : null,
      jobNamePrefix: parseJobNamePrefix(String(o.jobNamePrefix)),
      credentialsDir: path.resolve(host.cwd, credentialsDir),
      workDirRoot,
      nodeBinary: path.resolve(host.cwd, String(o.node)),
      codalabRoot: path.resolve(host.cwd, String(o.codalabRoot)),
    };
  }
  if (command.name() === 'docker') {
    return {
      kind: 'docker',
      image: o.image,
      dockerSocket: o.dockerSocket,
      workDirRoot,
      nodeBinary: path.resolve(host.cwd, String(o.node)),
      codalabRoot: path.resolve(host.cwd, String(o.codalabRoot)),
    };
  }
  const apiServer = typeof o.apiServer === 'string' ? o.apiServer : null;
  const tokenFile = typeof o.tokenFile === 'string' ? o.tokenFile : null;
  if ((apiServer === null) !== (tokenFile === null)) throw new UsageError('--api-server and --token-file go together: give both, or neither to use the kubeconfig.');
  return {
    kind: 'kubernetes',
    image: o.image,
    workerCommand: String(o.workerCommand),
    namespace: String(o.namespace),
    apiServer,
    token: tokenFile === null ? null : readToken(host, tokenFile),
    kubeconfig: typeof o.kubeconfig === 'string' ? path.resolve(host.cwd, o.kubeconfig) : null,
    nodeSelector: parseNodeSelector(o.nodeSelector as string[]),
    workDirRoot,
    dockerSocket: o.dockerSocket,
  };
}

function readToken(host: ManagerHostFacts, file: string): string {
  let text: string;
  try {
    text = host.readText(file);
  } catch (error) {
    throw new UsageError(`Cannot read --token-file ${file}: ${(error as Error).message}`);
  }
  const token = text.trim();
  if (token === '') throw new UsageError(`--token-file ${file} is empty: put the bearer token in it.`);
  return token;
}
