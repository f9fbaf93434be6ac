// Resolves bundle specs (uuid, uuid prefix, name, name^N, ^N) to uuids, relative to a worksheet.
// A name is looked up on the worksheet first and in the whole store only when it is not there.
// Prefixes and names match only bundles the caller may read, so they never reveal one that is
// private (nor make a spec ambiguous because of one); a full uuid or a position on a worksheet
// names its bundle, which the read that follows refuses if it is private.
import { parseBundleSpec } from '../../common/bundle-spec.js';
import { UserInputError } from '../../common/user-input-error.js';
import { ApiError } from '../../protocol/index.js';
import { AccessControl, type Caller } from '../permissions/access-control.js';
import type { BundleRow, Store } from '../store/store.js';

const MAX_CANDIDATES = 10;

export async function resolveSpec(store: Store, access: AccessControl, caller: Caller, spec: string, worksheetUuid: string | undefined): Promise<string> {
  const readableBy = AccessControl.readableBy(caller);
  let parsed;
  try {
    parsed = parseBundleSpec(spec);
  } catch (error) {
    if (error instanceof UserInputError) throw new ApiError('bad_request', error.message);
    throw error;
  }
  switch (parsed.kind) {
    case 'uuid': {
      const [row] = await store.getBundles([parsed.uuid]);
      if (!row) throw new ApiError('not_found', `No bundle with uuid ${parsed.uuid}.`);
      return row.uuid;
    }
    case 'prefix': {
      const rows = await store.findBundlesByUuidPrefix(parsed.prefix, MAX_CANDIDATES + 1, readableBy);
      return single(rows, spec);
    }
    case 'index': {
      const onSheet = await worksheetBundles(store, worksheetUuid, spec);
      const row = onSheet[onSheet.length - parsed.index];
      if (!row) {
        throw new ApiError('not_found', `No bundle ^${parsed.index}: the worksheet holds ${onSheet.length} bundles.`);
      }
      return row.uuid;
    }
    case 'name': {
      const like = toLikePattern(parsed.pattern);
      const matcher = likeToRegExp(like);
      const onSheet = worksheetUuid ? (await worksheetBundles(store, worksheetUuid, spec)).reverse() : [];
      const readable = await access.readable('bundle', caller, onSheet);
      const visible = onSheet.filter((b) => readable.has(b.uuid));
      let matches = visible.filter((b) => matcher.test(b.name));
      if (matches.length === 0) matches = await store.findBundlesByName(like, parsed.index, readableBy);
      const row = matches[parsed.index - 1];
      if (!row) {
        const suffix = parsed.index > 1 ? ` (only ${matches.length} match)` : '';
        throw new ApiError('not_found', `No bundle named '${spec}'${suffix}.`);
      }
      return row.uuid;
    }
  }
}

async function worksheetBundles(store: Store, worksheetUuid: string | undefined, spec: string): Promise<BundleRow[]> {
  if (!worksheetUuid) throw new ApiError('bad_request', `'${spec}' needs a current worksheet.`);
  const uuids = await store.listWorksheetBundleUuids(worksheetUuid);
  const rows = new Map((await store.getBundles(uuids)).map((r) => [r.uuid, r]));
  return uuids.map((u) => rows.get(u)).filter((r): r is BundleRow => r !== undefined);
}

function single(rows: BundleRow[], spec: string): string {
  const [first] = rows;
  if (!first) throw new ApiError('not_found', `No bundle with a uuid starting with ${spec}.`);
  if (rows.length > 1) {
    const shown = rows.slice(0, MAX_CANDIDATES).map((r) => `${r.uuid} (${r.name})`);
    const more = rows.length > MAX_CANDIDATES ? ', ...' : '';
    throw new ApiError('ambiguous', `Uuid prefix ${spec} is ambiguous; it matches ${shown.join(', ')}${more}.`);
  }
  return first.uuid;
}

/** `%` and `.*` are wildcards; `_` is a literal, so it is escaped for LIKE. */
export function toLikePattern(pattern: string): string {
  return pattern.replace(/\.\*/g, '%').replace(/_/g, '\\_');
}

function likeToRegExp(like: string): RegExp {
  // Walk the LIKE pattern: `\_` is a literal underscore, `%` any run of characters.
  let body = '';
  for (let i = 0; i < like.length; i += 1) {
    const char = like[i] as string;
    if (char === '\\' && like[i + 1] === '_') {
      body += '_';
      i += 1;
    } else if (char === '%') body += '.*';
    else body += char.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${body}$`);
}
