// The client's state file ($CODALAB_HOME/state.json): the selected server, and per instance the
// cached tokens (access and refresh) and the current worksheet. Only this module reads or writes that file; writes are
// atomic (temp file + rename) and private (mode 600), because the file holds bearer tokens.
import { mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../common/atomic-write.js';
import { join } from 'node:path';
import { z } from 'zod';
import { User } from '../protocol/index.js';

/** The key of the embedded instance, used when no server address is selected. */
export const LOCAL_INSTANCE = 'local';

export const CachedToken = z.object({
  token: z.string(),
  /** Epoch milliseconds. */
  expires_at: z.number(),
  /** Buys a new access token when this one expires (OAuth2 refresh_token grant). */
  refresh_token: z.string().optional(),
  /** Epoch milliseconds. */
  refresh_expires_at: z.number().optional(),
  user: User,
});
export type CachedToken = z.infer<typeof CachedToken>;

const InstanceState = z.object({
  auth: CachedToken.optional(),
  worksheet: z.string().optional(),
  /** The current worksheet's name when it was chosen, to name it if it is later deleted. */
  worksheet_name: z.string().optional(),
});
type InstanceState = z.infer<typeof InstanceState>;

const StateFile = z.object({
  version: z.literal(1),
  /** The selected server address; absent means the local instance. */
  address: z.string().optional(),
  instances: z.record(z.string(), InstanceState),
});
type StateFile = z.infer<typeof StateFile>;

export class StateStore {
  private readonly path: string;

  constructor(private readonly home: string) {
    this.path = join(home, 'state.json');
  }

  /** The selected instance: a server URL, or LOCAL_INSTANCE. */
  currentInstance(): string {
    return this.read().address ?? LOCAL_INSTANCE;
  }

  selectInstance(instance: string): void {
    this.update((state) => {
      if (instance === LOCAL_INSTANCE) delete state.address;
      else state.address = instance;
    });
  }

  token(instance: string): CachedToken | undefined {
    return this.read().instances[instance]?.auth;
  }

  saveToken(instance: string, token: CachedToken): void {
    this.update((state) => {
      state.instances[instance] = { ...state.instances[instance], auth: token };
    });
  }

  forgetToken(instance: string): boolean {
    let had = false;
    this.update((state) => {
      const entry = state.instances[instance];
      had = entry?.auth !== undefined;
      if (entry) delete entry.auth;
    });
    return had;
  }

  worksheet(instance: string): string | undefined {
    return this.read().instances[instance]?.worksheet;
  }

  worksheetName(instance: string): string | undefined {
    return this.read().instances[instance]?.worksheet_name;
  }

  saveWorksheet(instance: string, uuid: string, name?: string): void {
    this.update((state) => {
      const entry: InstanceState = { ...state.instances[instance], worksheet: uuid };
      if (name !== undefined) entry.worksheet_name = name;
      else delete entry.worksheet_name;
      state.instances[instance] = entry;
    });
  }

  private read(): StateFile {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (error) {
      if (isNotFound(error)) return { version: 1, instances: {} };
      throw error;
    }
    const parsed = StateFile.safeParse(safeJson(text));
    // A corrupt or foreign state file only costs a fresh login, so start over rather than fail.
    return parsed.success ? parsed.data : { version: 1, instances: {} };
  }

  private update(change: (state: StateFile) => void): void {
    const state = this.read();
    change(state);
    mkdirSync(this.home, { recursive: true, mode: 0o700 });
    writeFileAtomicSync(this.path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function isNotFound(error: unknown): boolean {
  return error instanceof Error && 'code' in error && error.code === 'ENOENT';
}
