// The grammar of bundle specs, targets and run dependencies (DESIGN.md section 3).
//   target     := [worksheet "//"] bundle_spec ["/" subpath]
//   bundle_spec:= uuid | uuid_prefix | name ["^" N] | "^" [N]
//   dependency := [key] ":" target          (in `cl run`), or %[key:]target% inside the command
// Pure parsing only: resolving a spec to a uuid is the server's job.
import { UserInputError } from './user-input-error.js';

export type BundleSpec =
  | { kind: 'uuid'; uuid: string }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'name'; pattern: string; index: number }
  | { kind: 'index'; index: number };

export interface Target {
  worksheet: string | null;
  bundle: string;
  subpath: string;
}

export interface DependencyArg {
  key: string;
  target: Target;
}

const UUID = /^0x[0-9a-f]{32}$/;
const UUID_PREFIX = /^0x[0-9a-f]{1,31}$/;
const NAME_PATTERN = /^[%*a-zA-Z0-9_.-]+$/;
const INDEX_ONLY = /^\^(\d*)$/;
const NAME_WITH_INDEX = /^(.+?)\^(\d*)$/;

export function parseBundleSpec(spec: string): BundleSpec {
  if (UUID.test(spec)) return { kind: 'uuid', uuid: spec };
  if (UUID_PREFIX.test(spec)) return { kind: 'prefix', prefix: spec };
  const onlyIndex = INDEX_ONLY.exec(spec);
  if (onlyIndex) return { kind: 'index', index: parseIndex(onlyIndex[1] ?? '', spec) };
  const withIndex = NAME_WITH_INDEX.exec(spec);
  const name = withIndex ? (withIndex[1] ?? '') : spec;
  if (!NAME_PATTERN.test(name)) {
    throw new UserInputError(
      `Invalid bundle spec '${spec}': expected a uuid (0x...), a uuid prefix, a name, name^N or ^N.`,
    );
  }
  return { kind: 'name', pattern: name, index: withIndex ? parseIndex(withIndex[2] ?? '', spec) : 1 };
}

function parseIndex(digits: string, spec: string): number {
  const index = digits === '' ? 1 : Number(digits);
  if (!Number.isInteger(index) || index < 1) {
    throw new UserInputError(`Invalid bundle spec '${spec}': the index after ^ starts at 1.`);
  }
  return index;
}

/** Splits `[ws//]spec[/sub/path]`; the bundle spec is validated, the sub-path normalised. */
export function parseTarget(text: string): Target {
  if (text.trim() === '') throw new UserInputError('Empty bundle spec: name a bundle by uuid, name or ^N.');
  let rest = text;
  let worksheet: string | null = null;
  const wsEnd = rest.indexOf('//');
  if (wsEnd >= 0) {
    worksheet = rest.slice(0, wsEnd);
    rest = rest.slice(wsEnd + 2);
    if (worksheet === '') throw new UserInputError(`Invalid target '${text}': the worksheet before // is empty.`);
  }
  const slash = rest.indexOf('/');
  const bundle = slash >= 0 ? rest.slice(0, slash) : rest;
  const subpath = normalizeSubpath(slash >= 0 ? rest.slice(slash + 1) : '', text);
  parseBundleSpec(bundle);
  return { worksheet, bundle, subpath };
}

/** Strips redundant slashes and `.`; refuses `..`, since no path may leave its bundle. */
export function normalizeSubpath(path: string, context = path): string {
  const parts = path.split('/').filter((part) => part !== '' && part !== '.');
  if (parts.includes('..')) {
    throw new UserInputError(`Invalid path in '${context}': '..' is not allowed; paths stay inside their bundle.`);
  }
  return parts.join('/');
}

/** The dependency key that spreads a directory's entries into the run directory. */
export const SPREAD_KEY = '.';

/**
 * `key:target`, `:target` (key from the sub-path, else the bundle spec), `.:target` (the parent's
 * entries at the run's root). Null when the text has no colon.
 */
export function parseDependencyArg(text: string): DependencyArg | null {
  const colon = text.indexOf(':');
  if (colon < 0) return null;
  const keyText = text.slice(0, colon);
  const target = parseTarget(text.slice(colon + 1));
  if (keyText.startsWith('/')) {
    throw new UserInputError(`Invalid dependency key in '${text}': absolute paths are not allowed; keys are relative to the run directory.`);
  }
  // `.` alone puts the parent's entries directly in the run directory (CodaLab's special key).
  const key = keyText === SPREAD_KEY ? SPREAD_KEY : keyText !== '' ? normalizeSubpath(keyText, text) : target.subpath || target.bundle;
  if (key === '' || !/^[a-zA-Z0-9_\-.][a-zA-Z0-9_\-./]*$/.test(key)) {
    throw new UserInputError(`Invalid dependency key in '${text}': use letters, digits, '_', '-', '.' and '/'.`);
  }
  return { key, target };
}

export function formatTarget(target: Target): string {
  const ws = target.worksheet !== null ? `${target.worksheet}//` : '';
  return `${ws}${target.bundle}${target.subpath ? `/${target.subpath}` : ''}`;
}

/**
 * Expands `%target%`, `%key:target%` and `%:target%` in a run command into dependency keys.
 * Bare `%target%` gets keys b1, b2, ... in order of first appearance; `%%` is a literal `%`.
 */
export function expandCommandDependencies(command: string): { command: string; dependencies: DependencyArg[] } {
  const dependencies: DependencyArg[] = [];
  const keyOfBare = new Map<string, string>();
  const expanded = command.replace(/%%|%([^%\s]+)%/g, (whole, inner: string | undefined) => {
    if (inner === undefined) return '%';
    const keyed = parseDependencyArg(inner);
    if (keyed) {
      dependencies.push(keyed);
      return keyed.key;
    }
    const known = keyOfBare.get(inner);
    if (known) return known;
    const key = `b${keyOfBare.size + 1}`;
    keyOfBare.set(inner, key);
    dependencies.push({ key, target: parseTarget(inner) });
    return key;
  });
  return { command: expanded, dependencies };
}
