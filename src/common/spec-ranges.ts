// Range specs, expanded by the client as CodaLab does: `foo^1-3` -> foo^1 foo^2 foo^3, `^3-1`
// descending, `ws//^1-2/path` keeps its worksheet and sub-path. Pure.
import { UserInputError } from './user-input-error.js';

const RANGE = /^((?:[^/]*\/\/)?[^/]*\^)(\d+)-(\d+)((?:\/.*)?)$/;
const MAX_RANGE = 1000;

export function expandSpecRange(spec: string): string[] {
  const match = RANGE.exec(spec);
  if (!match) return [spec];
  const [, head = '', fromText = '', toText = '', tail = ''] = match;
  const from = Number(fromText);
  const to = Number(toText);
  if (from < 1 || to < 1) throw new UserInputError(`Invalid range '${spec}': indexes start at 1.`);
  if (Math.abs(to - from) >= MAX_RANGE) throw new UserInputError(`Invalid range '${spec}': at most ${MAX_RANGE} bundles.`);
  const step = to >= from ? 1 : -1;
  const out: string[] = [];
  for (let i = from; i !== to + step; i += step) out.push(`${head}${i}${tail}`);
  return out;
}

export function expandSpecRanges(specs: readonly string[]): string[] {
  return specs.flatMap(expandSpecRange);
}
