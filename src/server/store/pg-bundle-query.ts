// Turns a BundleQuery into PostgreSQL SQL with the meaning sqlite-bundle-query.ts gives it:
// metadata is JSON text read with `metadata::jsonb ->> key`, LIKE is ILIKE (SQLite's LIKE ignores
// ASCII case), text sorts bytewise (COLLATE "C", SQLite's BINARY) with NULLs first ascending, and a
// numeric sort or sum reads a value that is not a number as 0 (SQLite's CAST AS REAL does that).
import { readableSql } from './sqlite-access.js';
import type { BundleColumn, BundleQuery, QueryCondition, QueryField } from './bundle-query.js';
import type { PgParam } from './pg-client.js';

const NUMERIC_COLUMNS: readonly BundleColumn[] = ['id', 'created'];

function fieldSql(field: QueryField, values: PgParam[]): string {
  if (field.kind === 'column') return `b.${field.column}`;
  values.push(field.key);
  return '(b.metadata::jsonb ->> ?::text)';
}

/** The field as text, the way SQLite's CAST(... AS TEXT) compares it. */
function textSql(field: QueryField, values: PgParam[]): string {
  return `CAST(${fieldSql(field, values)} AS TEXT)`;
}

/** The field as a number; text that does not read as one is 0. */
function numberSql(field: QueryField, values: PgParam[]): string {
  // Two reads of the field, each with its own bound key, in the order they appear in the text.
  const tested = textSql(field, values);
  const cast = textSql(field, values);
  return `(CASE WHEN ${tested} ~ '^\\s*[-+]?([0-9]+\\.?[0-9]*|\\.[0-9]+)([eE][-+]?[0-9]+)?\\s*$' THEN ${cast}::FLOAT8 ELSE 0 END)`;
}

function conditionSql(condition: QueryCondition, values: PgParam[]): string {
  switch (condition.kind) {
    case 'match': {
      const parts = condition.values.map((value) => {
        const column = textSql(condition.field, values);
        values.push(value);
        return value.includes('%') ? `${column} ILIKE ? ESCAPE ''` : `${column} = ?`;
      });
      return `(${parts.join(' OR ')})`;
    }
    case 'text':
      values.push(`%${condition.text}%`, `%${condition.text}%`);
      return `(b.uuid ILIKE ? ESCAPE '' OR b.name ILIKE ? ESCAPE '')`;
    case 'any_value':
      values.push(condition.value, condition.value, condition.value);
      return '(b.uuid = ? OR b.command = ? OR EXISTS (SELECT 1 FROM jsonb_each_text(b.metadata::jsonb) j WHERE j.value = ?))';
    case 'owner_name':
      values.push([...condition.names]);
      return 'b.owner_id IN (SELECT id FROM users WHERE user_name = ANY(?::text[]))';
    case 'dependency':
      values.push(`${condition.parent_uuid}%`);
      if (condition.child_path === null) {
        return `EXISTS (SELECT 1 FROM bundle_dependencies d WHERE d.child_uuid = b.uuid AND d.parent_uuid ILIKE ? ESCAPE '')`;
      }
      values.push(condition.child_path);
      return `EXISTS (SELECT 1 FROM bundle_dependencies d WHERE d.child_uuid = b.uuid AND d.parent_uuid ILIKE ? ESCAPE '' AND d.child_path = ?)`;
    case 'host_worksheet':
      values.push(condition.worksheet_uuid);
      return 'EXISTS (SELECT 1 FROM worksheet_items i WHERE i.bundle_uuid = b.uuid AND i.worksheet_uuid = ?)';
    case 'floating':
      return 'NOT EXISTS (SELECT 1 FROM worksheet_items i WHERE i.bundle_uuid = b.uuid)';
    case 'created': {
      const parts: string[] = [];
      if (condition.after !== undefined) {
        parts.push('b.created >= ?');
        values.push(condition.after);
      }
      if (condition.before !== undefined) {
        parts.push('b.created <= ?');
        values.push(condition.before);
      }
      return parts.length > 0 ? `(${parts.join(' AND ')})` : '1 = 1';
    }
    case 'states':
      values.push([...condition.states]);
      return 'b.state = ANY(?::text[])';
    case 'readable_by':
      values.push(condition.user_id, condition.user_id);
      return readableSql('bundle', 'b.uuid', 'b.owner_id');
    case 'group_readable':
      values.push(condition.group_uuid);
      return 'EXISTS (SELECT 1 FROM bundle_permissions g WHERE g.bundle_uuid = b.uuid AND g.group_uuid = ?)';
    case 'shared_with':
      values.push(condition.user_id);
      return 'EXISTS (SELECT 1 FROM bundle_permissions g JOIN group_members m ON m.group_uuid = g.group_uuid WHERE g.bundle_uuid = b.uuid AND m.user_id = ?)';
  }
}

function sortSql(field: QueryField, numeric: boolean, descending: boolean, values: PgParam[]): string {
  const isNumericColumn = field.kind === 'column' && NUMERIC_COLUMNS.includes(field.column);
  const expression = numeric && !isNumericColumn ? numberSql(field, values) : fieldSql(field, values);
  const collated = isNumericColumn || numeric ? expression : `${expression} COLLATE "C"`;
  return `${collated} ${descending ? 'DESC NULLS LAST' : 'ASC NULLS FIRST'}`;
}

export function bundleQuerySql(query: BundleQuery): { sql: string; values: PgParam[] } {
  const values: PgParam[] = [];
  const where = query.conditions.map((c) => conditionSql(c, values));
  const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  if (query.aggregate?.kind === 'count') {
    return { sql: `SELECT COUNT(*) AS result FROM bundles b ${whereSql}`, values };
  }
  if (query.aggregate?.kind === 'sum') {
    const sumValues: PgParam[] = [];
    const column = numberSql(query.aggregate.field, sumValues);
    return { sql: `SELECT COALESCE(SUM(${column}), 0) AS result FROM bundles b ${whereSql}`, values: [...sumValues, ...values] };
  }
  const orderValues: PgParam[] = [];
  const order = query.sort.map((s) => sortSql(s.field, s.numeric, s.descending, orderValues));
  order.push('b.id DESC');
  return {
    sql: `SELECT b.* FROM bundles b ${whereSql} ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`,
    values: [...values, ...orderValues, query.limit, query.offset],
  };
}
