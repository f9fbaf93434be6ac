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
  private current: Promise<Worksheet> | undefined;

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
    return (await this.currentWorksheetInfo()).uuid;
  }

  /**
   * The current worksheet, checked once per command: it may have been deleted since it was
   * chosen (`cl wrm`, another session), and then the user must pick another rather than see a
   * bare "no worksheet with uuid" from whichever request first uses it.
   */
  currentWorksheetInfo(): Promise<Worksheet> {
    return (this.current ??= this.findCurrentWorksheet());
  }

  private async findCurrentWorksheet(): Promise<Worksheet> {
    const saved = this.state.worksheet(this.instance);
    if (!saved) {
      const home = await this.api.json(routes.homeWorksheet(), Worksheet);
      this.selectWorksheet(home);
      return home;
    }
    try {
      return await this.worksheetBySpec(saved);
    } catch (error) {
      if (error instanceof ApiError && error.code === 'not_found') {
        throw new DeletedWorksheetError(saved, this.state.worksheetName(this.instance));
      }
      throw error;
    }
  }

  /**
   * The current worksheet's uuid as saved, without the check (no request): for a command whose one
   * request names the worksheet anyway, and that asks currentWorksheet() only to explain a refusal.
   * Undefined until one is chosen (the home worksheet is then looked up).
   */
  savedWorksheet(): string | undefined {
    return this.state.worksheet(this.instance);
  }

  /** True when `uuid` is the worksheet this session has selected. */
  isCurrentWorksheet(uuid: string): boolean {
    return this.state.worksheet(this.instance) === uuid;
  }

  async worksheetBySpec(spec: string): Promise<Worksheet> {
    return this.api.json(routes.worksheetBySpec(spec), Worksheet);
  }

  selectWorksheet(worksheet: Worksheet): void {
    this.state.saveWorksheet(this.instance, worksheet.uuid, worksheet.name);
    this.current = Promise.resolve(worksheet);
  }
}

/** How to choose another worksheet, for every message about a missing current one. */
export const PICK_WORKSHEET_HINT = "pick another with 'cl work home' or 'cl work NAME'";

/** The saved current worksheet no longer exists on the server. */
export class DeletedWorksheetError extends UserInputError {
  constructor(
    readonly uuid: string,
    readonly worksheetName: string | undefined,
  ) {
    super(`The current worksheet ${describeWorksheet(uuid, worksheetName)} no longer exists (it was deleted): ${PICK_WORKSHEET_HINT}.`);
  }
}

export function describeWorksheet(uuid: string, name: string | undefined): string {
  return name !== undefined ? `${name} (${uuid})` : uuid;
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
