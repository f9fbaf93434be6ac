// `cl info -f` genpaths beyond plain fields: `args` (an equivalent cl run/make command line),
// `dependencies/KEY`, and file genpaths `/path` (the file's text on one line) and `/path:key`
// (a value from a file of tab-separated `key value` lines or from a JSON object).
import { Writable } from 'node:stream';
import { terminalText } from './format/terminal-text.js';
import { formatRawValue } from './format/values.js';
import { fieldValue } from './format/bundle-info.js';
import { shellQuote } from './run-args.js';
import { copyBlobIfPresent } from './contents.js';
import type { Bundle } from '../protocol/index.js';
import type { Session } from './session.js';

const MAX_FILE_LINES = 10_000;

export async function formatGenpaths(session: Session, bundle: Bundle, fields: readonly string[]): Promise<string> {
  const values: string[] = [];
  for (const field of fields) values.push(terminalText(await genpathValue(session, bundle, field)));
  return values.join('\t');
}

export async function genpathValue(session: Session, bundle: Bundle, field: string): Promise<string> {
  if (field === 'args') return bundleArgs(bundle);
  if (field.startsWith('dependencies/')) {
    const key = field.slice('dependencies/'.length);
    const dep = bundle.dependencies.find((d) => d.child_path === key);
    return dep ? `${dep.parent_uuid}${dep.parent_path ? `/${dep.parent_path}` : ''}` : '';
  }
  if (field.startsWith('/')) return fileGenpath(session, bundle, field.slice(1));
  return formatRawValue(fieldValue(bundle, field));
}

/** An equivalent command line: `cl run KEY:UUID[/path]... 'COMMAND' [-n NAME]`, or `cl make ...`. */
export function bundleArgs(bundle: Bundle): string {
  const deps = bundle.dependencies.map((d) => `${d.child_path}:${d.parent_uuid}${d.parent_path ? `/${d.parent_path}` : ''}`);
  const name = typeof bundle.metadata.name === 'string' ? ['-n', bundle.metadata.name] : [];
  if (bundle.bundle_type === 'run') return ['cl', 'run', ...deps, shellQuote(bundle.command ?? ''), ...name].join(' ');
  if (bundle.bundle_type === 'make') return ['cl', 'make', ...deps, ...name].join(' ');
  return ['cl', 'upload', ...name].join(' ');
}

async function fileGenpath(session: Session, bundle: Bundle, spec: string): Promise<string> {
  const colon = spec.indexOf(':');
  const path = colon >= 0 ? spec.slice(0, colon) : spec;
  const key = colon >= 0 ? spec.slice(colon + 1) : null;
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  const found = await copyBlobIfPresent(session.api, bundle.uuid, path, sink, { head: MAX_FILE_LINES });
  if (!found) return '';
  const text = Buffer.concat(chunks).toString('utf8').replace(/\n$/, '');
  if (key === null) return text;
  return lookupKey(text, key);
}

/** A value from JSON (`a/b` walks into objects) or from `key<TAB>value` / `key: value` lines. */
export function lookupKey(text: string, key: string): string {
  try {
    let value: unknown = JSON.parse(text);
    for (const part of key.split('/')) {
      value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined;
    }
    if (value === undefined) return '';
    return typeof value === 'string' ? value : JSON.stringify(value);
  } catch {
    // Not JSON: read it as key/value lines.
  }
  for (const line of text.split('\n')) {
    const match = /^([^\t:]+)(?:\t|:\s*)(.*)$/.exec(line);
    if (match && match[1]?.trim() === key) return (match[2] ?? '').trim();
  }
  return '';
}
