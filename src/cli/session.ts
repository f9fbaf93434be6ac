// A connection to one instance: which server (the selected address, or the local instance started
// on demand), an authenticated API client, the user and the current worksheet. Commands get a
// Session from the context; only this module decides where credentials come from.
import { UserInputError } from '../common/user-input-error.js';
import { ApiError, routes, Worksheet, type User } from '../protocol/index.js';
import { ApiClient } from './api-client.js';
import type { CliConfig } from './config.js';
import type { CliIo } from './io.js';
import { ensureLocalInstance, readLocalCredentials, type LocalInstance } from './local-instance.js';
import { TokenProvider, type CredentialSource } from './login.js';
import { isInteractive, promptLine, promptSecret } from './prompt.js';
import { LOCAL_INSTANCE, type StateStore } from './state-store.js';

export interface CliContext {
  readonly config: CliConfig;
  readonly io: CliIo;
  readonly state: StateStore;
  /** The process exit status; commands set 1 for "done, but not successful" (e.g. wait on a failed run). */
  exitCode: number;
  /** The session of the selected instance, opened on first use. */
  session(): Promise<Session>;
}

export class Session {
  constructor(
    readonly instance: string,
    readonly api: ApiClient,
    readonly tokens: TokenProvider,
    private readonly state: StateStore,
    readonly local: LocalInstance | undefined,
  ) {}

  get baseUrl(): string {
    return this.api.baseUrl;
  }

  user(): Promise<User> {
    return this.tokens.user();
  }

  /** The uuid of the current worksheet; the user's home worksheet until one is chosen. */
  async currentWorksheet(): Promise<string> {
    const saved = this.state.worksheet(this.instance);
    if (saved && (await this.stillExists(saved))) return saved;
    const home = await this.api.json(routes.homeWorksheet(), Worksheet);
    this.state.saveWorksheet(this.instance, home.uuid);
    return home.uuid;
  }

  /**
   * The local instance's data can be deleted behind the client's back (rm -rf ~/.codalab/local),
   * so a saved worksheet is checked there (a loopback call); a remote one is trusted.
   */
  private async stillExists(uuid: string): Promise<boolean> {
    if (!this.local) return true;
    try {
      await this.worksheetBySpec(uuid);
      return true;
    } catch (error) {
      if (error instanceof ApiError && error.code === 'not_found') return false;
      throw error;
    }
  }

  async worksheetBySpec(spec: string): Promise<Worksheet> {
    return this.api.json(routes.worksheetBySpec(spec), Worksheet);
  }

  selectWorksheet(uuid: string): void {
    this.state.saveWorksheet(this.instance, uuid);
  }
}

export async function openSession(config: CliConfig, io: CliIo, state: StateStore, instance: string): Promise<Session> {
  if (instance === LOCAL_INSTANCE) {
    const local = await ensureLocalInstance(config, (line) => io.stderr.write(`${line}\n`));
    const tokens = new TokenProvider(instance, local.url, state, () => readLocalCredentials(local));
    return new Session(instance, new ApiClient(local.url, tokens), tokens, state, local);
  }
  const tokens = new TokenProvider(instance, instance, state, remoteCredentials(config, io, instance));
  return new Session(instance, new ApiClient(instance, tokens), tokens, state, undefined);
}

function remoteCredentials(config: CliConfig, io: CliIo, url: string): CredentialSource {
  return async () => {
    if (config.username !== undefined && config.password !== undefined) {
      return { username: config.username, password: config.password };
    }
    if (!isInteractive(io)) {
      throw new UserInputError(
        `Not logged in to ${url}: run 'cl work ${url}::' in a terminal, or set CODALAB_USERNAME and CODALAB_PASSWORD.`,
      );
    }
    io.stderr.write(`Logging in to ${url}\n`);
    const username = config.username ?? (await promptLine(io, 'Username: '));
    const password = config.password ?? (await promptSecret(io, 'Password: '));
    return { username, password };
  };
}
