// A bundle search as the Store executes it: AND-ed conditions, a sort, a limit, or an aggregate.
// Built from user keywords by services/search-keywords.ts; each Store turns it into its own SQL.
import type { BundleState } from '../../protocol/index.js';

/** Bundle columns a condition or sort may name; anything else is a metadata key. */
export const BUNDLE_COLUMNS = ['uuid', 'id', 'state', 'command', 'bundle_type', 'owner_id', 'name', 'created'] as const;
export type BundleColumn = (typeof BUNDLE_COLUMNS)[number];

export type QueryField = { kind: 'column'; column: BundleColumn } | { kind: 'metadata'; key: string };

export type QueryCondition =
  /** equals one of the values; a value with `%` is a LIKE pattern. */
  | { kind: 'match'; field: QueryField; values: string[] }
  /** the uuid or the name contains the text */
  | { kind: 'text'; text: string }
  /** the uuid, the command or any metadata value equals the text */
  | { kind: 'any_value'; value: string }
  | { kind: 'owner_name'; names: string[] }
  | { kind: 'dependency'; parent_uuid: string; child_path: string | null }
  | { kind: 'host_worksheet'; worksheet_uuid: string }
  | { kind: 'floating' }
  /** `created` in epoch milliseconds, inclusive */
  | { kind: 'created'; after?: number; before?: number }
  | { kind: 'states'; states: BundleState[] }
  /** the user owns the bundle or holds read on it through public or one of their groups */
  | { kind: 'readable_by'; user_id: string }
  /** the group holds read or all on the bundle (`group=G`) */
  | { kind: 'group_readable'; group_uuid: string }
  /** one of the user's groups holds read or all on the bundle (`.shared`) */
  | { kind: 'shared_with'; user_id: string };

export interface QuerySort {
  field: QueryField;
  descending: boolean;
  numeric: boolean;
}

export interface BundleQuery {
  conditions: QueryCondition[];
  sort: QuerySort[];
  limit: number | null;
  offset: number;
  aggregate: { kind: 'count' } | { kind: 'sum'; field: QueryField } | null;
}
