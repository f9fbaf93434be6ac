// Turns a BundleQuery into SQLite SQL. Metadata fields use json_extract (PostgreSQL would use
// `metadata->>key`); field names never reach the SQL text, only bound parameters do.
import { readableSql } from './sqlite-access.js';
import type { BundleQuery, QueryCondition, QueryField } from './bundle-query.js';

type SqlValue = string | number | null;

export interface SqlFragment {
  sql: string;
  values: SqlValue[];
}

function fieldSql(field: QueryField, values: SqlValue[]): string {
  if (field.kind === 'column') return `b.${field.column}`;
  values.push(`$."${field.key.replace(/"/g, '')}"`);
  return 'json_extract(b.metadata, ?)';
}

function conditionSql(condition: QueryCondition, values: SqlValue[]): string {
  switch (condition.kind) {
    case 'match': {
      const parts = condition.values.map((value) => {
        const column = fieldSql(condition.field, values);
        values.push(value);
        return value.includes('%') ? `CAST(${column} AS TEXT) LIKE ?` : `CAST(${column} AS TEXT) = ?`;
      });
      return `(${parts.join(' OR ')})`;
    }
    case 'text':
      values.push(`%${condition.text}%`, `%${condition.text}%`);
      return '(b.uuid LIKE ? OR b.name LIKE ?)';
    case 'any_value':
      values.push(condition.value, condition.value, condition.value);
      return '(b.uuid = ? OR b.command = ? OR EXISTS (SELECT 1 FROM json_each(b.metadata) j WHERE CAST(j.value AS TEXT) = ?))';
    case 'owner_name':
      values.push(...condition.names);
      return `b.owner_id IN (SELECT id FROM users WHERE user_name IN (${condition.names.map(() => '?').join(', ')}))`;
    case 'dependency':
      values.push(`${condition.parent_uuid}%`);
      if (condition.child_path === null) {
        return 'EXISTS (SELECT 1 FROM bundle_dependencies d WHERE d.child_uuid = b.uuid AND d.parent_uuid LIKE ?)';
      }
      values.push(condition.child_path);
      return 'EXISTS (SELECT 1 FROM bundle_dependencies d WHERE d.child_uuid = b.uuid AND d.parent_uuid LIKE ? AND d.child_path = ?)';
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
      values.push(...condition.states);
      return `b.state IN (${condition.states.map(() => '?').join(', ')})`;
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

export function bundleQuerySql(query: BundleQuery): SqlFragment {
  const values: SqlValue[] = [];
  const where = query.conditions.map((c) => conditionSql(c, values));
  const whereSql = where.length > 0 ? `WHERE ${where.join(' AND ')}` : '';
  if (query.aggregate?.kind === 'count') {
    return { sql: `SELECT COUNT(*) AS result FROM bundles b ${whereSql}`, values };
  }
  if (query.aggregate?.kind === 'sum') {
    const sumValues: SqlValue[] = [];
    const column = fieldSql(query.aggregate.field, sumValues);
    return {
      sql: `SELECT COALESCE(SUM(CAST(${column} AS REAL)), 0) AS result FROM bundles b ${whereSql}`,
      values: [...sumValues, ...values],
    };
  }
  const orderValues: SqlValue[] = [];
  const order = query.sort.map((s) => {
    const column = fieldSql(s.field, orderValues);
    return `${s.numeric ? `CAST(${column} AS REAL)` : column} ${s.descending ? 'DESC' : 'ASC'}`;
  });
  order.push('b.id DESC');
  const limit = query.limit === null ? -1 : query.limit;
  return {
    sql: `SELECT b.* FROM bundles b ${whereSql} ORDER BY ${order.join(', ')} LIMIT ? OFFSET ?`,
    values: [...values, ...orderValues, limit, query.offset],
  };
}
