// The worker's configuration: parsed once from flags and environment into a frozen object that
// is passed down. Nothing below main reads process.env. Each flag's value is parsed, or refused
// with a one-line UsageError, in flag-values.ts; the only I/O is reading the password file
// (credentials.ts, whose problems are UserInputErrors).
import path from 'node:path';
import { Command, CommanderError, Option } from 'commander';
import { parseLogFormat, type LogFormat } from '../common/log.js';
import { commanderUsageMessage, UsageError } from '../common/usage-error.js';
import { addDroppedFlags, droppedFlagsHelp, rejectDroppedFlags } from '../common/dropped-flags.js';
import { RUN_NETWORK } from './docker/container-runtime.js';
import { DROPPED_WORKER_FLAGS } from './dropped-flags.js';
import type { PullPolicy } from './images/pull-policy.js';
import { credentialsFromEnv, readPasswordFile } from '../common/credentials.js';
import {
  defaultSlots,
  normalizeServerUrl,
  parseCount,
  parseCpuset,
  parseFlagSize,
  parseGigabytes,
  parseGpuset,
  parseGroupName,
  parseNetworkName,
  parsePositiveSeconds,
  parsePullPolicy,
  parseSeconds,
  parseTag,
  parseWorkerId,
} from './flag-values.js';

export interface WorkerConfig {
  /** Base URL of the server, without `/rest` (default http://127.0.0.1:2900). */
  readonly serverUrl: string;
  readonly username: string;
  readonly password: string;
  /** Absolute path; holds runs/, dependencies/ and the worker-id file (default ./codalab-worker-scratch). */
  readonly workDir: string;
  /** Worker id; null means "the id stored in the work dir, created on first start". */
  readonly id: string | null;
  readonly tag: string | null;
  /** Only take runs whose queue is this worker's tag (ignored without a tag). */
  readonly tagExclusive: boolean;
  /** `--group NAME`: also take the runs of this group's members (the owner must be a member). */
  readonly group: string | null;
  /** Most runs at once (`cl-worker` default: one per CPU it may use; embedders default to 1). */
  readonly slots: number;
  /** CPU indices handed to runs; null = all CPUs of the machine. */
  readonly cpuset: readonly number[] | null;
  /** GPU indices or UUIDs handed to runs; null = every GPU nvidia-smi lists (`ALL`, the default); empty = none. */
  readonly gpuset: readonly string[] | null;
  /** Memory reported to the scheduler is min(this, physical memory); null = physical memory. */
  readonly maxMemoryBytes: number | null;
  /**
   * Cap on the dependency cache, in bytes; null (the default) = half of the work dir's file
   * system, measured when the worker starts (see deps/default-cache-cap.ts).
   */
  readonly maxWorkDirSizeBytes: number | null;
  /**
   * Cap on the images this worker pulled, in bytes: beyond it the least recently used ones that no
   * run uses are removed (images pulled by hand are never touched); null = no cap (the default).
   */
  readonly maxImageCacheSizeBytes: number | null;
  /** `missing` (default): pull an image only when it is not present; `always`: pull before every run. */
  readonly pullPolicy: PullPolicy;
  /** Seconds between regular check-ins (default 5); a run changing stage checks in at once. */
  readonly checkinFrequencySeconds: number;
  /** Exit once no run has been held for `idleSeconds` (after one successful check-in). */
  readonly exitWhenIdle: boolean;
  /** On SIGTERM, stop the runs and give them back to the server instead of leaving them to the next start. */
  readonly passDownTermination: boolean;
  readonly idleSeconds: number;
  /** Accept at most this many runs, then exit when none remain; null = unlimited. */
  readonly exitAfterNumRuns: number | null;
  /** Unix socket of the Docker Engine API (default /var/run/docker.sock). */
  readonly dockerSocket: string;
  /** Docker network of runs that have a network (default codalab-runs: one that isolates runs; see DockerRuntime). */
  readonly runNetwork: string;
  /** Seconds between SIGTERM and SIGKILL when a run is stopped (default 10). */
  readonly killGraceSeconds: number;
  /** Size of each run's /dev/shm in bytes (`--shared-memory-size-gb`, default 1). */
  readonly sharedMemoryBytes: number;
  /** Most processes (and threads) a run may have at once (default 4096). */
  readonly pidsLimit: number;
  /**
   * Free space the worker keeps on the work dir's disk for itself (default 1g): it refuses runs,
   * and dependency downloads, rather than eat into it.
   */
  readonly diskReserveBytes: number;
  /**
   * `--shared-file-system`: this machine sees the server's bundle store at the same paths, so
   * dependencies are mounted from there (read-only) instead of downloaded.
   */
  readonly sharedFileSystem: boolean;
  readonly verbose: boolean;
  /** How log lines look (`--log-format`, default text). */
  readonly logFormat: LogFormat;
  /** This machine's name, sent to the server when a run starts. */
  readonly hostname: string;
}

/** Defaults for every field but the credentials and server; used by main and by embedders. */
export function createWorkerConfig(
  required: Pick<WorkerConfig, 'serverUrl' | 'username' | 'password' | 'workDir' | 'hostname'>,
  overrides: Partial<WorkerConfig> = {},
): WorkerConfig {
  return Object.freeze({
    id: null,
    tag: null,
    tagExclusive: false,
    group: null,
    slots: 1,
    cpuset: null,
    gpuset: null,
    maxMemoryBytes: null,
    maxWorkDirSizeBytes: null,
    maxImageCacheSizeBytes: null,
    pullPolicy: 'missing',
    checkinFrequencySeconds: 5,
    exitWhenIdle: false,
    passDownTermination: false,
    idleSeconds: 0,
    exitAfterNumRuns: null,
    dockerSocket: '/var/run/docker.sock',
    runNetwork: RUN_NETWORK,
    killGraceSeconds: 10,
    sharedMemoryBytes: 1024 ** 3,
    pidsLimit: 4096,
    diskReserveBytes: 1024 ** 3,
    sharedFileSystem: false,
    verbose: false,
    logFormat: 'text',
    ...required,
    ...overrides,
    workDir: path.resolve(overrides.workDir ?? required.workDir),
    serverUrl: normalizeServerUrl(overrides.serverUrl ?? required.serverUrl),
  });
}

export interface HostFacts {
  cwd: string;
  hostname: string;
  cpuCount: number;
}

export type ParsedArgs = { kind: 'config'; config: WorkerConfig } | { kind: 'help'; text: string };

function buildCommand(): Command {
  const command = new Command('cl-worker')
    .description('Connects to a CodaLab server and runs bundles in Docker.')
    .option('--server <url>', 'server URL', 'http://127.0.0.1:2900')
    .option('--password-file <file>', 'file with the username on line 1 and the password on line 2 (mode 600)')
    .option('--work-dir <dir>', 'directory for runs and the dependency cache', 'codalab-worker-scratch')
    .option('--id <id>', 'worker id (default: generated once and kept in the work dir)')
    .option('--tag <tag>', 'only runs with --request-queue TAG (or no queue) come here')
    .option('--tag-exclusive', 'take only runs whose queue is this tag', false)
    .option('--group <name>', "also take runs of this group's members (you must be in the group; see cl gls)")
    .option('--slots <n>', 'most runs at once (default: the number of CPUs in --cpuset, else of the machine)')
    .option('--cpuset <list>', 'CPUs handed to runs: ALL or a list like 0,1,4-7', 'ALL')
    .option('--gpuset <list>', 'GPUs handed to runs: ALL (every GPU nvidia-smi lists), NONE, or indices/UUIDs', 'ALL')
    .option('--max-memory <size>', 'memory reported to the server (default: physical memory)')
    .option(
      '--max-work-dir-size <size>',
      "cap on the dependency cache: beyond it the least recently used dependencies no run uses are removed (default: half of the work dir's file system)",
    )
    .option(
      '--max-image-cache-size <size>',
      'cap on the images this worker pulled: beyond it the least recently used ones no run uses are removed (default: no cap)',
    )
    .option('--pull-policy <policy>', 'missing (pull an image only when absent) or always (pull before every run)', 'missing')
    .option('--checkin-frequency-seconds <s>', 'seconds between check-ins', '5')
    .option('--exit-when-idle', 'exit when no run has been held for --idle-seconds', false)
    .option('--idle-seconds <s>', 'how long the worker must be idle before it exits', '0')
    .option('--exit-after-num-runs <n>', 'accept at most N runs, then exit when none remain')
    .option(
      '--pass-down-termination',
      'on SIGTERM, stop the runs and give them back to the server (they are staged again); ' +
        'by default they run on and the worker takes them up again when restarted on the same work dir',
      false,
    )
    .option('--docker-socket <path>', 'Docker Engine API socket', '/var/run/docker.sock')
    .option(
      '--run-network <name>',
      `Docker network of runs with a network: ${RUN_NETWORK} (runs cannot reach each other: Docker's default bridge ` +
        'where dockerd runs with --icc=false, else a bridge made here), bridge (the default bridge as it is), or one you made',
      RUN_NETWORK,
    )
    .option('--shared-memory-size-gb <gb>', 'size of /dev/shm in each run container, in GiB', '1')
    .option('--pids-limit <n>', 'most processes a run may have at once', '4096')
    .option('--disk-reserve <size>', 'free space kept on the work dir disk; runs and dependency downloads are refused rather than fill it', '1g')
    .option(
      '--shared-file-system',
      "the server's bundle store is mounted here at the same path: dependencies are mounted from it, not downloaded",
      false,
    )
    .addOption(new Option('--kill-grace-seconds <s>', 'seconds between SIGTERM and SIGKILL').default('10').hideHelp())
    .option('--verbose', 'debug logging', false)
    .option('--log-format <format>', 'text (one readable line each) or json (one JSON object each)', 'text')
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
  addDroppedFlags(command, DROPPED_WORKER_FLAGS);
  return command;
}

interface RawOptions {
  server: string;
  passwordFile?: string;
  workDir: string;
  id?: string;
  tag?: string;
  tagExclusive: boolean;
  group?: string;
  slots?: string;
  cpuset: string;
  gpuset: string;
  maxMemory?: string;
  maxWorkDirSize?: string;
  maxImageCacheSize?: string;
  pullPolicy: string;
  checkinFrequencySeconds: string;
  exitWhenIdle: boolean;
  passDownTermination: boolean;
  idleSeconds: string;
  exitAfterNumRuns?: string;
  dockerSocket: string;
  runNetwork: string;
  killGraceSeconds: string;
  sharedMemorySizeGb: string;
  pidsLimit: string;
  diskReserve: string;
  sharedFileSystem: boolean;
  verbose: boolean;
  logFormat: string;
}

/** Parses the command line and environment into a frozen config, or the help text. */
export function parseWorkerArgs(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  host: HostFacts,
): ParsedArgs {
  const command = buildCommand();
  try {
    command.parse([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help') {
        return { kind: 'help', text: command.helpInformation() + droppedFlagsHelp(DROPPED_WORKER_FLAGS) };
      }
      throw new UsageError(commanderUsageMessage(error.message, 'cl-worker'));
    }
    throw error;
  }
  rejectDroppedFlags(command, DROPPED_WORKER_FLAGS);
  const o = command.opts<RawOptions>();
  const cpuset = parseCpuset(o.cpuset, host.cpuCount);
  const settings: Partial<WorkerConfig> = {
    id: o.id === undefined ? null : parseWorkerId(o.id),
    tag: o.tag === undefined ? null : parseTag(o.tag),
    tagExclusive: o.tagExclusive,
    group: o.group === undefined ? null : parseGroupName(o.group),
    slots: o.slots === undefined ? defaultSlots(cpuset, host.cpuCount) : parseCount('--slots', o.slots, 1),
    cpuset,
    gpuset: parseGpuset(o.gpuset),
    maxMemoryBytes: o.maxMemory === undefined ? null : parseFlagSize('--max-memory', o.maxMemory),
    maxWorkDirSizeBytes: o.maxWorkDirSize === undefined ? null : parseFlagSize('--max-work-dir-size', o.maxWorkDirSize),
    maxImageCacheSizeBytes:
      o.maxImageCacheSize === undefined ? null : parseFlagSize('--max-image-cache-size', o.maxImageCacheSize),
    pullPolicy: parsePullPolicy(o.pullPolicy),
    checkinFrequencySeconds: parsePositiveSeconds('--checkin-frequency-seconds', o.checkinFrequencySeconds),
    exitWhenIdle: o.exitWhenIdle,
    passDownTermination: o.passDownTermination,
    idleSeconds: parseSeconds('--idle-seconds', o.idleSeconds),
    exitAfterNumRuns: o.exitAfterNumRuns === undefined ? null : parseCount('--exit-after-num-runs', o.exitAfterNumRuns, 0),
    dockerSocket: o.dockerSocket,
    runNetwork: parseNetworkName(o.runNetwork),
    killGraceSeconds: parseSeconds('--kill-grace-seconds', o.killGraceSeconds),
    sharedMemoryBytes: parseGigabytes('--shared-memory-size-gb', o.sharedMemorySizeGb),
    pidsLimit: parseCount('--pids-limit', o.pidsLimit, 16),
    diskReserveBytes: parseFlagSize('--disk-reserve', o.diskReserve),
    sharedFileSystem: o.sharedFileSystem,
    verbose: o.verbose,
    logFormat: parseLogFormat(o.logFormat),
  };
  const serverUrl = normalizeServerUrl(o.server);
  // Credentials last, so that a bad flag is reported before a missing password.
  const credentials = o.passwordFile ? readPasswordFile(o.passwordFile) : credentialsFromEnv(env);
  const config = createWorkerConfig(
    { serverUrl, ...credentials, workDir: path.resolve(host.cwd, o.workDir), hostname: host.hostname },
    settings,
  );
  return { kind: 'config', config };
}
