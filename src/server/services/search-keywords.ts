// Parses `cl search` keywords into a BundleQuery (CodaLab's grammar, section 3 of the reference).
// Pure: worksheet and group specs are turned into uuids by the caller's context.
// Every keyword that does not parse is a UserInputError naming the keyword.
import { UserInputError } from '../../common/user-input-error.js';
import { BundleState } from '../../protocol/index.js';
import { BUNDLE_COLUMNS, type BundleColumn, type BundleQuery, type QueryField } from '../store/bundle-query.js';

export const DEFAULT_SEARCH_LIMIT = 10;

const FIELD_SHORTCUTS: Record<string, string> = { type: 'bundle_type', size: 'data_size', worksheet: 'host_worksheet' };
const KEY_PATTERN = /^[A-Za-z_][A-Za-z0-9_./-]*$/;

export interface KeywordContext {
  userId: string;
  /** Only bundles this user may read match (always a condition); null: every bundle (root). */
  readableBy: string | null;
  /** Turns a group spec (name, uuid or prefix) into a uuid. */
  groupUuid(spec: string): Promise<string>;
  /** Turns a worksheet spec (uuid, prefix or name) into a uuid. */
  worksheetUuid(spec: string): Promise<string>;
}

export function toField(key: string): QueryField {
  const name = FIELD_SHORTCUTS[key] ?? key;
  if ((BUNDLE_COLUMNS as readonly string[]).includes(name)) return { kind: 'column', column: name as BundleColumn };
  return { kind: 'metadata', key: name };
}

function likeValue(value: string): string {
  return value.replace(/\.\*/g, '%');
}

function parseCount(keyword: string, text: string): number {
  if (!/^\d+$/.test(text)) throw new UserInputError(`Invalid search keyword '${keyword}': expected a whole number.`);
  return Number(text);
}

function parseDate(keyword: string, text: string): number {
  const time = Date.parse(text);
  if (Number.isNaN(time)) {
    throw new UserInputError(`Invalid search keyword '${keyword}': expected a date such as 2024-05-01 or 2024-05-01T12:00.`);
  }
  return time;
}

export async function parseSearchKeywords(keywords: readonly string[], context: KeywordContext): Promise<BundleQuery> {
  const query: BundleQuery = { conditions: [], sort: [], limit: DEFAULT_SEARCH_LIMIT, offset: 0, aggregate: null };
  // First and whatever the keywords say: counts and sums see no more than listings do.
  if (context.readableBy !== null) query.conditions.push({ kind: 'readable_by', user_id: context.readableBy });
  for (const keyword of keywords) await applyKeyword(query, keyword, context);
  if (query.aggregate) query.limit = null;
  return query;
}

async function applyKeyword(query: BundleQuery, keyword: string, context: KeywordContext): Promise<void> {
  const eq = keyword.indexOf('=');
  if (eq < 0) {
    if (keyword === '.mine') query.conditions.push({ kind: 'match', field: toField('owner_id'), values: [context.userId] });
    else if (keyword === '.floating') query.conditions.push({ kind: 'floating' });
    else if (keyword === '.shared') query.conditions.push({ kind: 'shared_with', user_id: context.userId });
    else if (keyword === '.last') query.sort.push({ field: toField('id'), descending: true, numeric: true });
    else if (keyword === '.count') query.aggregate = { kind: 'count' };
    else if (keyword.startsWith('.')) throw new UserInputError(`Unknown search keyword '${keyword}'.`);
    else if (keyword.trim() === '') throw new UserInputError('Empty search keyword.');
    else query.conditions.push({ kind: 'text', text: keyword });
    return;
  }
  const key = keyword.slice(0, eq);
  const value = keyword.slice(eq + 1);
  if (value === '') throw new UserInputError(`Invalid search keyword '${keyword}': the value after '=' is empty.`);
  if (key === '') {
    query.conditions.push({ kind: 'any_value', value });
    return;
  }
  switch (key) {
    case '.limit':
      query.limit = parseCount(keyword, value);
      return;
    case '.offset':
      query.offset = parseCount(keyword, value);
      return;
    case '.before':
      query.conditions.push({ kind: 'created', before: parseDate(keyword, value) });
      return;
    case '.after':
      query.conditions.push({ kind: 'created', after: parseDate(keyword, value) });
      return;
  }
  if (key.startsWith('.')) throw new UserInputError(`Unknown search keyword '${keyword}'.`);
  if (!KEY_PATTERN.test(key)) throw new UserInputError(`Invalid search keyword '${keyword}': bad field name '${key}'.`);
  if (value === '.sort' || value === '.sort-') {
    const field = toField(key);
    const numeric = !(field.kind === 'column' && ['name', 'uuid', 'state', 'command', 'bundle_type', 'owner_id'].includes(field.column));
    query.sort.push({ field, descending: value === '.sort-', numeric });
    return;
  }
  if (value === '.sum') {
    query.aggregate = { kind: 'sum', field: toField(key) };
    return;
  }
  if (value.startsWith('.')) throw new UserInputError(`Unknown search keyword '${keyword}': '${value}' is not a known operator.`);
  const values = value.split(',').filter((v) => v !== '').map(likeValue);
  await applyFieldFilter(query, key, values, keyword, context);
}

async function applyFieldFilter(
  query: BundleQuery,
  key: string,
  values: string[],
  keyword: string,
  context: KeywordContext,
): Promise<void> {
  if (key === 'owner') {
    query.conditions.push({ kind: 'owner_name', names: values });
  } else if (key === 'group') {
    if (values.length !== 1) throw new UserInputError(`Invalid search keyword '${keyword}': give one group.`);
    query.conditions.push({ kind: 'group_readable', group_uuid: await context.groupUuid(values[0] as string) });
  } else if (key === 'state') {
    for (const state of values) {
      if (!BundleState.safeParse(state).success) {
        throw new UserInputError(`Invalid search keyword '${keyword}': '${state}' is not a bundle state (${BundleState.options.join(', ')}).`);
      }
    }
    query.conditions.push({ kind: 'states', states: values as BundleState[] });
  } else if (key === 'dependency' || key.startsWith('dependency/')) {
    const childPath = key === 'dependency' ? null : key.slice('dependency/'.length);
    for (const uuid of values) {
      if (!/^0x[0-9a-f]{1,32}$/.test(uuid)) throw new UserInputError(`Invalid search keyword '${keyword}': expected a bundle uuid.`);
    }
    // Several values mean any of them; one condition per value would mean all of them.
    if (values.length !== 1) throw new UserInputError(`Invalid search keyword '${keyword}': give one uuid per dependency keyword.`);
    query.conditions.push({ kind: 'dependency', parent_uuid: values[0] as string, child_path: childPath });
  } else if (key === 'host_worksheet' || key === 'worksheet') {
    if (values.length !== 1) throw new UserInputError(`Invalid search keyword '${keyword}': give one worksheet.`);
    query.conditions.push({ kind: 'host_worksheet', worksheet_uuid: await context.worksheetUuid(values[0] as string) });
  } else if (key === 'created') {
    throw new UserInputError(`Invalid search keyword '${keyword}': use .before=DATE and .after=DATE for creation times.`);
  } else {
    query.conditions.push({ kind: 'match', field: toField(key), values });
  }
}
