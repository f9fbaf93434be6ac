// The client's settings file ($CODALAB_HOME/config.json), as CodaLab keeps it: `aliases` (name ->
// server address) and any other `/`-separated key set with `cl config`. Values are converted to
// bool, int or float when they look like one. Writes are atomic (temp file + rename).
import { mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomicSync } from '../common/atomic-write.js';
import { join } from 'node:path';
import { UserInputError } from '../common/user-input-error.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

export class ClientConfigFile {
  private readonly path: string;

  constructor(private readonly home: string) {
    this.path = join(home, 'config.json');
  }

  read(): JsonObject {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch {
      return {};
    }
    try {
      const parsed = JSON.parse(text) as Json;
      return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? parsed : {};
    } catch {
      throw new UserInputError(`${this.path} is not valid JSON; fix or remove it.`);
    }
  }

  get(key: string): Json | undefined {
    let value: Json | undefined = this.read();
    for (const part of splitKey(key)) {
      value = value !== null && typeof value === 'object' && !Array.isArray(value) ? value[part] : undefined;
    }
    return value;
  }

  set(key: string, value: Json | undefined): void {
    const root = this.read();
    const parts = splitKey(key);
    let node: JsonObject = root;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (next === null || typeof next !== 'object' || Array.isArray(next)) node[part] = {};
      node = node[part] as JsonObject;
    }
    const last = parts[parts.length - 1] as string;
    if (value === undefined) delete node[last];
    else node[last] = value;
    mkdirSync(this.home, { recursive: true, mode: 0o700 });
    writeFileAtomicSync(this.path, `${JSON.stringify(root, null, 2)}\n`, { mode: 0o600 });
  }

  aliases(): Record<string, string> {
    const value = this.get('aliases');
    const out: Record<string, string> = {};
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
      for (const [name, address] of Object.entries(value)) if (typeof address === 'string') out[name] = address;
    }
    return out;
  }
}

function splitKey(key: string): string[] {
  const parts = key.split('/').filter((p) => p !== '');
  if (parts.length === 0) throw new UserInputError(`Invalid config key '${key}': use NAME or a/b/c.`);
  return parts;
}

/** `true`/`false`, integers and floats become JSON values; anything else stays text. */
export function convertConfigValue(text: string): Json {
  if (text === 'true' || text === 'True') return true;
  if (text === 'false' || text === 'False') return false;
  if (/^-?\d+$/.test(text)) return Number(text);
  if (/^-?\d*\.\d+(e-?\d+)?$/i.test(text)) return Number(text);
  return text;
}

/** `ALIAS::rest` -> `ADDRESS::rest` when ALIAS is a configured alias. */
export function expandAlias(text: string, aliases: Readonly<Record<string, string>>): string {
  const at = text.indexOf('::');
  if (at < 0) return text;
  const address = aliases[text.slice(0, at)];
  return address !== undefined ? `${address}${text.slice(at)}` : text;
}
