// Parses `cl-server` flags and environment into a frozen ServerConfig (the only place that reads
// them). Commander only splits the command line into strings; each value is checked here, so
// every refusal is one UsageError line naming the flag and what it accepts. Writes nothing.
import { Command, CommanderError } from 'commander';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseLogFormat, type LogFormat } from '../common/log.js';
import { formatSize, parseDuration, parseSize } from '../common/sizes.js';
import { commanderUsageMessage, UsageError } from '../common/usage-error.js';
import { passwordProblem } from '../protocol/index.js';
import { SERVER_DEFAULTS, type ServerConfig } from '../server/config.js';
import { redactDatabaseUrl } from '../server/store/database-url.js';
import type { RequestLimits } from '../server/scheduling/resources.js';

export interface ServerArgs {
  config: ServerConfig;
  withWorker: boolean;
  verbose: boolean;
  logFormat: LogFormat;
}

export type ParsedServerArgs = { kind: 'run'; args: ServerArgs } | { kind: 'help'; text: string };

interface RawOptions {
  home: string;
  host: string;
  port?: string;
  databaseUrl?: string;
  storeDir?: string;
  advertiseUrl?: string;
  defaultCpuImage: string;
  defaultGpuImage: string;
  workerTimeoutSeconds?: string;
  workerLeaseSeconds?: string;
  preparingTimeoutSeconds?: string;
  finalizingTimeoutSeconds?: string;
  uploadTimeoutSeconds?: string;
  tokenTtlSeconds?: string;
  refreshTokenTtlSeconds?: string;
  allowSignup: boolean;
  maxRequestMemory?: string;
  minRequestMemory?: string;
  maxRequestDisk?: string;
  maxRequestTime?: string;
  maxRequestCpus?: string;
  maxRequestGpus?: string;
  defaultRequestNetwork?: string;
  defaultUserDiskQuota?: string;
  defaultUserTimeQuota?: string;
  defaultUserParallelRunQuota?: string;
  withWorker: boolean;
  verbose: boolean;
  logFormat: string;
}

function buildCommand(codalabHome: string): Command {
  const d = SERVER_DEFAULTS;
  return new Command('cl-server')
    .description(
      'Runs the server: REST API, bundle store, database and scheduler.\n' +
        'cl-server copy-database --from sqlite:PATH --to postgres://... copies an SQLite instance into an empty PostgreSQL database.',
    )
    .option('--home <dir>', 'database and bundle store', join(codalabHome, 'server'))
    .option('--host <host>', 'address to listen on', d.host)
    .option('--port <port>', `port to listen on; 0 picks a free one (default ${d.port})`)
    .option('--database-url <url>', 'sqlite:PATH, a file path (default: <home>/codalab.sqlite), or postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE')
    .option('--store-dir <dir>', 'bundle contents (default: <home>/store); several servers of one database share one on a shared mount')
    .option('--advertise-url <url>', 'the URL other servers of the database reach this one at (default: the address it listens on)')
    .option('--default-cpu-image <image>', 'image for runs that name none', d.defaultCpuImage)
    .option('--default-gpu-image <image>', 'image for GPU runs that name none', d.defaultGpuImage)
    .option('--worker-timeout-seconds <s>', `a worker silent this long is offline (default ${d.workerTimeoutSeconds})`)
    .option('--worker-lease-seconds <s>', `runs of a worker silent this long fail (default ${d.workerLeaseSeconds}: time to reboot its machine)`)
    .option('--preparing-timeout-seconds <s>', `a run preparing this long fails (default ${d.preparingTimeoutSeconds})`)
    .option('--finalizing-timeout-seconds <s>', `a run finalizing this long fails (default ${d.finalizingTimeoutSeconds})`)
    .option('--upload-timeout-seconds <s>', `a new dataset whose upload has not come in this long fails (default ${d.uploadTimeoutSeconds})`)
    .option('--token-ttl-seconds <s>', `lifetime of access tokens; clients renew them (default ${d.tokenTtlSeconds})`)
    .option('--refresh-token-ttl-seconds <s>', `lifetime of refresh tokens, i.e. of an unused login (default ${d.refreshTokenTtlSeconds})`)
    .option('--allow-signup', 'let anyone who can reach the server create an account (cl signup)', false)
    .option('--max-request-memory <size>', 'largest --request-memory a run may ask for (default: no limit)')
    .option('--min-request-memory <size>', `smallest --request-memory a run may ask for (default ${formatSize(d.requestLimits.minRequestMemory)})`)
    .option('--max-request-disk <size>', 'largest --request-disk; also the disk limit of runs that name none')
    .option('--max-request-time <duration>', 'largest --request-time; also the time limit of runs that name none')
    .option('--max-request-cpus <n>', 'most CPUs a run may ask for')
    .option('--max-request-gpus <n>', 'most GPUs a run may ask for')
    .option('--default-request-network <bool>', `network access of runs that do not say (default ${d.defaultRequestNetwork})`)
    .option('--default-user-disk-quota <size>', `disk (bundle contents) a user may own unless root set theirs (default ${formatSize(d.defaultUserQuotas.diskBytes)})`)
    .option('--default-user-time-quota <duration>', 'run time a user may use on shared (root) workers unless root set theirs (default 1y)')
    .option('--default-user-parallel-run-quota <n>', `runs at once a user may have on shared workers (default ${d.defaultUserQuotas.parallelRuns})`)
    .option('--with-worker', 'also run a worker in this process (the local instance)', false)
    .option('--verbose', 'log more', false)
    .option('--log-format <format>', 'text (one readable line each) or json (one JSON object each)', 'text')
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(false)
    .exitOverride()
    .configureOutput({ writeOut: () => {}, writeErr: () => {} });
}

/** Parses argv into the server's config, or the help text; throws a UsageError naming the bad flag. */
export function parseServerArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): ParsedServerArgs {
  const program = buildCommand(env.CODALAB_HOME ?? join(homedir(), '.codalab'));
  try {
    program.parse([...argv], { from: 'user' });
  } catch (error) {
    if (!(error instanceof CommanderError)) throw error;
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.help') {
      return { kind: 'help', text: program.helpInformation() };
    }
    throw new UsageError(commanderUsageMessage(error.message, 'cl-server'));
  }
  const o = program.opts<RawOptions>();
  const d = SERVER_DEFAULTS;
  const home = resolve(o.home);
  const rootPassword = env.CODALAB_ROOT_PASSWORD ?? null;
  const weak = rootPassword !== null ? passwordProblem(rootPassword) : null;
  // Not a flag, so not a usage error: main prints it as the one line it is.
  if (weak) throw new Error(`CODALAB_ROOT_PASSWORD is ${weak}.`);
  const logFormat = parseLogFormat(o.logFormat);
  const config: ServerConfig = Object.freeze({
    ...d,
    home,
    host: o.host,
    port: o.port === undefined ? d.port : parsePort(o.port),
    databaseUrl: parseDatabaseUrl(o.databaseUrl, home),
    storeDir: o.storeDir === undefined ? join(home, 'store') : resolve(o.storeDir),
    advertiseUrl: o.advertiseUrl === undefined ? null : parseAdvertiseUrl(o.advertiseUrl),
    defaultCpuImage: o.defaultCpuImage,
    defaultGpuImage: o.defaultGpuImage,
    rootPassword,
    tokenTtlSeconds: optionalTokenSeconds('--token-ttl-seconds', o.tokenTtlSeconds, d.tokenTtlSeconds),
    refreshTokenTtlSeconds: optionalTokenSeconds('--refresh-token-ttl-seconds', o.refreshTokenTtlSeconds, d.refreshTokenTtlSeconds),
    allowSignup: o.allowSignup,
    workerTimeoutSeconds:
      o.workerTimeoutSeconds === undefined ? d.workerTimeoutSeconds : parseSeconds('--worker-timeout-seconds', o.workerTimeoutSeconds),
    workerLeaseSeconds: optionalSeconds('--worker-lease-seconds', o.workerLeaseSeconds, d.workerLeaseSeconds),
    preparingTimeoutSeconds: optionalSeconds('--preparing-timeout-seconds', o.preparingTimeoutSeconds, d.preparingTimeoutSeconds),
    finalizingTimeoutSeconds: optionalSeconds('--finalizing-timeout-seconds', o.finalizingTimeoutSeconds, d.finalizingTimeoutSeconds),
    uploadTimeoutSeconds: optionalSeconds('--upload-timeout-seconds', o.uploadTimeoutSeconds, d.uploadTimeoutSeconds),
    requestLimits: parseRequestLimits(o),
    defaultUserQuotas: parseUserQuotas(o),
    defaultRequestNetwork:
      o.defaultRequestNetwork === undefined ? d.defaultRequestNetwork : parseBoolean('--default-request-network', o.defaultRequestNetwork),
  });
  return { kind: 'run', args: { config, withWorker: o.withWorker, verbose: o.verbose, logFormat } };
}

/**
 * The database `--database-url` names: a postgres:// or postgresql:// URL, kept as given, or an
 * SQLite file: a plain path, `sqlite:PATH`, or SQLAlchemy's `sqlite:///PATH` (as CodaLab's own
 * configs write it). Relative paths are taken from the cwd.
 */
export function parseDatabaseUrl(text: string | undefined, home: string): string {
  if (text === undefined) return join(home, 'codalab.sqlite');
  if (/^postgres(ql)?:/i.test(text)) return parsePostgresUrl(text);
  let path = text;
  if (/^sqlite:/i.test(text)) {
    const rest = text.slice('sqlite:'.length);
    if (rest.startsWith('//') && !rest.startsWith('///')) throw badDatabaseUrl(text);
    path = rest.startsWith('///') ? rest.slice(3) : rest;
  } else if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(text)) {
    throw badDatabaseUrl(text);
  }
  if (path.trim() === '') throw badDatabaseUrl(text);
  return resolve(path);
}

function parsePostgresUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw badDatabaseUrl(text);
  }
  // No host is fine when ?host= names a socket directory, as libpq allows.
  if ((url.hostname === '' && !url.searchParams.has('host')) || url.pathname.length <= 1) throw badDatabaseUrl(text);
  return text;
}

function badDatabaseUrl(text: string): UsageError {
  // Never echo a password back into logs and terminals.
  return new UsageError(`Invalid --database-url '${redactDatabaseUrl(text)}': expected sqlite:PATH, a file path or postgres://USER@HOST[:PORT]/DATABASE.`);
}

/** A URL peers can open: http(s), a host, nothing after the port (paths are the server's own). */
function parseAdvertiseUrl(text: string): string {
  let url: URL | null = null;
  try {
    url = new URL(text);
  } catch {
    // Reported below, as every other malformed value.
  }
  if (url === null || !/^https?:$/.test(url.protocol) || url.hostname === '' || (url.pathname !== '/' && url.pathname !== '') || url.search !== '') {
    throw new UsageError(`Invalid --advertise-url '${text}': expected http://HOST:PORT, the address other servers reach this one at.`);
  }
  return url.origin;
}

function parsePort(text: string): number {
  const port = Number(text);
  if (!/^\d+$/.test(text.trim()) || port > 65535) {
    throw new UsageError(`Invalid --port '${text}': expected a whole number from 0 to 65535.`);
  }
  return port;
}

function parseSeconds(flag: string, text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || value < 0) {
    throw new UsageError(`Invalid ${flag} '${text}': expected a number of seconds, 0 or more.`);
  }
  return value;
}

/** Token lifetimes travel as OAuth2's `expires_in`: a whole number of seconds, at least 1. */
function optionalTokenSeconds(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = parseSeconds(flag, text);
  if (!Number.isInteger(value) || value < 1) throw new UsageError(`Invalid ${flag} '${text}': expected a whole number of seconds, 1 or more.`);
  return value;
}

function optionalSeconds(flag: string, text: string | undefined, fallback: number): number {
  return text === undefined ? fallback : parseSeconds(flag, text);
}

function parseCount(flag: string, text: string): number {
  if (!/^\d+$/.test(text.trim())) throw new UsageError(`Invalid ${flag} '${text}': expected a whole number, 0 or more.`);
  return Number(text);
}

function parseBoolean(flag: string, text: string): boolean {
  if (/^(true|yes|1)$/i.test(text.trim())) return true;
  if (/^(false|no|0)$/i.test(text.trim())) return false;
  throw new UsageError(`Invalid ${flag} '${text}': expected true or false.`);
}

/** parseSize/parseDuration name the bad text; the flag is added in front. */
function withFlag<T>(flag: string, parse: (text: string) => T, text: string): T {
  try {
    return parse(text);
  } catch (error) {
    throw new UsageError(`${flag}: ${(error as Error).message}`);
  }
}

function parseUserQuotas(o: RawOptions): ServerConfig['defaultUserQuotas'] {
  const d = SERVER_DEFAULTS.defaultUserQuotas;
  return Object.freeze({
    diskBytes: o.defaultUserDiskQuota === undefined ? d.diskBytes : withFlag('--default-user-disk-quota', parseSize, o.defaultUserDiskQuota),
    timeSeconds: o.defaultUserTimeQuota === undefined ? d.timeSeconds : withFlag('--default-user-time-quota', parseDuration, o.defaultUserTimeQuota),
    parallelRuns:
      o.defaultUserParallelRunQuota === undefined ? d.parallelRuns : parseCount('--default-user-parallel-run-quota', o.defaultUserParallelRunQuota),
  });
}

function parseRequestLimits(o: RawOptions): RequestLimits {
  const d = SERVER_DEFAULTS.requestLimits;
  const optional = <T>(text: string | undefined, parse: (text: string) => T): T | undefined =>
    text === undefined ? undefined : parse(text);
  const limits: RequestLimits = Object.freeze({
    maxRequestMemory: optional(o.maxRequestMemory, (t) => withFlag('--max-request-memory', parseSize, t)) ?? d.maxRequestMemory,
    minRequestMemory: optional(o.minRequestMemory, (t) => withFlag('--min-request-memory', parseSize, t)) ?? d.minRequestMemory,
    maxRequestDisk: optional(o.maxRequestDisk, (t) => withFlag('--max-request-disk', parseSize, t)) ?? d.maxRequestDisk,
    maxRequestTime: optional(o.maxRequestTime, (t) => withFlag('--max-request-time', parseDuration, t)) ?? d.maxRequestTime,
    maxRequestCpus: optional(o.maxRequestCpus, (t) => parseCount('--max-request-cpus', t)) ?? d.maxRequestCpus,
    maxRequestGpus: optional(o.maxRequestGpus, (t) => parseCount('--max-request-gpus', t)) ?? d.maxRequestGpus,
  });
  if (limits.maxRequestMemory !== null && limits.maxRequestMemory < limits.minRequestMemory) {
    const min = o.minRequestMemory ?? `${formatSize(limits.minRequestMemory)}, the default`;
    throw new UsageError(`Invalid --max-request-memory ${o.maxRequestMemory ?? ''}: it is below --min-request-memory (${min}).`);
  }
  return limits;
}
