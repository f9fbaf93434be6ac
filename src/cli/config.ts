// The client's configuration, read once from the environment and argv in main() and frozen.
// Nothing below main reads process.env: modules get what they need from this object.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export interface CliConfig {
  /** Client state: server address, token cache, current worksheet; also the local instance's data. */
  readonly home: string;
  /** Credentials for non-interactive login (CODALAB_USERNAME / CODALAB_PASSWORD). */
  readonly username: string | undefined;
  readonly password: string | undefined;
  /** Print stack traces of unexpected errors (CODALAB_DEBUG=1). */
  readonly debug: boolean;
  /** The launcher of the server, started in the background for the local instance. */
  readonly serverBin: string;
  /** Node executable used to start the server. */
  readonly nodeBin: string;
  /** Environment handed to the local server process. */
  readonly childEnv: Readonly<Record<string, string>>;
  /** Directory that relative upload paths are resolved against. */
  readonly cwd: string;
}

export interface ConfigSources {
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  serverBin: string;
  nodeBin: string;
}

/** Environment variables the client consumes itself and must not leak into the local server. */
const CLIENT_ONLY_VARIABLES = ['CODALAB_USERNAME', 'CODALAB_PASSWORD', 'CODALAB_ROOT_PASSWORD'];

export function parseCliConfig(sources: ConfigSources): CliConfig {
  const { env } = sources;
  const home = env.CODALAB_HOME ? resolve(sources.cwd, env.CODALAB_HOME) : join(homedir(), '.codalab');
  const childEnv: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && !CLIENT_ONLY_VARIABLES.includes(key)) childEnv[key] = value;
  }
  return Object.freeze({
    home,
    username: nonEmpty(env.CODALAB_USERNAME),
    password: env.CODALAB_PASSWORD,
    debug: ['1', 'true', 'yes'].includes((env.CODALAB_DEBUG ?? '').toLowerCase()),
    serverBin: sources.serverBin,
    nodeBin: sources.nodeBin,
    childEnv: Object.freeze(childEnv),
    cwd: sources.cwd,
  });
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}
