// Parses `cl-server` flags and environment into a frozen ServerConfig (the only place that reads them).
import { Command, InvalidArgumentError } from 'commander';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { parseDuration, parseSize } from '../common/sizes.js';
import { passwordProblem } from '../protocol/index.js';
import { SERVER_DEFAULTS, type ServerConfig } from '../server/config.js';
import type { RequestLimits } from '../server/scheduling/resources.js';

export interface ServerArgs {
  config: ServerConfig;
  withWorker: boolean;
  verbose: boolean;
}

function positiveNumber(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0) throw new InvalidArgumentError(`expected a non-negative number, got '${text}'`);
  return value;
}

function sizeArg(text: string): number {
  try {
    return parseSize(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function durationArg(text: string): number {
  try {
    return parseDuration(text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function countArg(text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError(`expected a whole number, got '${text}'`);
  return Number(text);
}

function booleanArg(text: string): boolean {
  if (/^(true|yes|1)$/i.test(text.trim())) return true;
  if (/^(false|no|0)$/i.test(text.trim())) return false;
  throw new InvalidArgumentError(`expected true or false, got '${text}'`);
}

interface LimitOptions {
  maxRequestMemory?: number;
  minRequestMemory?: number;
  maxRequestDisk?: number;
  maxRequestTime?: number;
  maxRequestCpus?: number;
  maxRequestGpus?: number;
}

function requestLimits(o: LimitOptions): RequestLimits {
  const d = SERVER_DEFAULTS.requestLimits;
  const limits: RequestLimits = Object.freeze({
    maxRequestMemory: o.maxRequestMemory ?? d.maxRequestMemory,
    minRequestMemory: o.minRequestMemory ?? d.minRequestMemory,
    maxRequestDisk: o.maxRequestDisk ?? d.maxRequestDisk,
    maxRequestTime: o.maxRequestTime ?? d.maxRequestTime,
    maxRequestCpus: o.maxRequestCpus ?? d.maxRequestCpus,
    maxRequestGpus: o.maxRequestGpus ?? d.maxRequestGpus,
  });
  if (limits.maxRequestMemory !== null && limits.maxRequestMemory < limits.minRequestMemory) {
    throw new InvalidArgumentError('--max-request-memory is below --min-request-memory');
  }
  return limits;
}

export function parseServerArgs(argv: string[], env: NodeJS.ProcessEnv): ServerArgs {
  const codalabHome = env.CODALAB_HOME ?? join(homedir(), '.codalab');
  const program = new Command('cl-server')
    .description('Runs the server: REST API, bundle store, database and scheduler.')
    .option('--home <dir>', 'database and bundle store', join(codalabHome, 'server'))
    .option('--host <host>', 'address to listen on', SERVER_DEFAULTS.host)
    .option('--port <port>', 'port to listen on; 0 picks a free one', positiveNumber, SERVER_DEFAULTS.port)
    .option('--database-url <url>', 'SQLite file (default: <home>/codalab.sqlite)')
    .option('--default-cpu-image <image>', 'image for runs that name none', SERVER_DEFAULTS.defaultCpuImage)
    .option('--default-gpu-image <image>', 'image for GPU runs that name none', SERVER_DEFAULTS.defaultGpuImage)
    .option('--worker-timeout-seconds <s>', 'a worker silent this long is offline', positiveNumber, SERVER_DEFAULTS.workerTimeoutSeconds)
    .option('--token-ttl-seconds <s>', 'lifetime of access tokens', positiveNumber, SERVER_DEFAULTS.tokenTtlSeconds)
    .option('--max-request-memory <size>', 'largest --request-memory a run may ask for (default: no limit)', sizeArg)
    .option('--min-request-memory <size>', 'smallest --request-memory a run may ask for (default 4m)', sizeArg)
    .option('--max-request-disk <size>', 'largest --request-disk; also the disk limit of runs that name none', sizeArg)
    .option('--max-request-time <duration>', 'largest --request-time; also the time limit of runs that name none', durationArg)
    .option('--max-request-cpus <n>', 'most CPUs a run may ask for', countArg)
    .option('--max-request-gpus <n>', 'most GPUs a run may ask for', countArg)
    .option('--default-request-network <bool>', 'network access of runs that do not say', booleanArg, SERVER_DEFAULTS.defaultRequestNetwork)
    .option('--with-worker', 'also run a worker in this process (the local instance)', false)
    .option('--verbose', 'log more', false)
    .exitOverride()
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  program.parse(argv, { from: 'user' });
  const o = program.opts<{
    home: string; host: string; port: number; databaseUrl?: string; defaultCpuImage: string; defaultGpuImage: string;
    workerTimeoutSeconds: number; tokenTtlSeconds: number; withWorker: boolean; verbose: boolean;
    defaultRequestNetwork: boolean;
  } & LimitOptions>();
  const home = resolve(o.home);
  const databaseUrl = o.databaseUrl ?? join(home, 'codalab.sqlite');
  if (/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new InvalidArgumentError('PostgreSQL is not supported yet; omit --database-url to use SQLite.');
  }
  const rootPassword = env.CODALAB_ROOT_PASSWORD ?? null;
  const weak = rootPassword !== null ? passwordProblem(rootPassword) : null;
  // A plain Error, not commander's: main prints it as the one line it is.
  if (weak) throw new Error(`CODALAB_ROOT_PASSWORD is ${weak}.`);
  const config: ServerConfig = Object.freeze({
    ...SERVER_DEFAULTS,
    home,
    host: o.host,
    port: o.port,
    databaseUrl: isAbsolute(databaseUrl) ? databaseUrl : resolve(databaseUrl),
    defaultCpuImage: o.defaultCpuImage,
    defaultGpuImage: o.defaultGpuImage,
    rootPassword,
    tokenTtlSeconds: o.tokenTtlSeconds,
    workerTimeoutSeconds: o.workerTimeoutSeconds,
    requestLimits: requestLimits(o),
    defaultRequestNetwork: o.defaultRequestNetwork,
  });
  return { config, withWorker: o.withWorker, verbose: o.verbose };
}
