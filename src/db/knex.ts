/**
 * Knex instances as database handles. A Knex instance is a function (`knex('users')` starts a query builder), so
 * before this it passed for a `(sql, params) => rows` query function and every statement became a query on a
 * table named after the SQL. It is recognised by its client and runs statements with `knex.raw`.
 */
import { toMysqlPlaceholders } from './mysql';
import type { Row } from './types';

export interface KnexLike {
  (...args: unknown[]): unknown;
  raw(sql: string, bindings?: readonly unknown[]): PromiseLike<unknown>;
  client: KnexClientLike;
}

export interface KnexClientLike {
  dialect?: string;
  driverName?: string;
  config?: { client?: unknown; connection?: unknown };
  acquireConnection(): Promise<unknown>;
  releaseConnection(connection: unknown): Promise<unknown>;
}

export function isKnex(value: unknown): value is KnexLike {
  if (typeof value !== 'function') return false;
  const v = value as Partial<KnexLike>;
  const c = v.client as Partial<KnexClientLike> | undefined;
  return typeof v.raw === 'function' && !!c && typeof c.acquireConnection === 'function' && typeof c.releaseConnection === 'function';
}

/** 'postgres' for Knex's pg dialects, 'mysql' for mysql / mysql2, otherwise 'unknown'. */
export function knexDialect(knex: KnexLike): 'postgres' | 'mysql' | 'unknown' {
  const d = String(knex.client.dialect ?? '');
  if (d === 'postgresql' || d === 'pg') return 'postgres';
  if (d === 'mysql' || d === 'mysql2') return 'mysql';
  return 'unknown';
}

export function describeKnex(knex: KnexLike): string {
  return `Knex instance (${String(knex.client.driverName ?? knex.client.dialect ?? 'unknown driver')})`;
}

/**
 * A Queryable over a Knex instance: `$n` placeholders (the contracts' dialect) become Knex's `?` bindings, a `?` that
 * is part of the SQL is escaped for Knex (`\?`: PostgreSQL's jsonb operators), and a statement without `$n` is passed
 * as written (it may use `?` itself). Resolves with the rows.
 */
export function knexQuery(knex: KnexLike): (sql: string, params?: readonly unknown[]) => Promise<Row[]> {
  return async (sql, params = []) => {
    const hasDollar = /\$[0-9]/.test(sql);
    const rewritten = hasDollar ? toMysqlPlaceholders(sql.replace(/\?/g, '\\?'), params) : { sql, params: [...params] };
    const result = await knex.raw(rewritten.sql, rewritten.params);
    return rowsOfKnexRaw(result);
  };
}

/** pg: `{ rows }`; mysql / mysql2: `[rows | ResultSetHeader, fields]`. */
function rowsOfKnexRaw(result: unknown): Row[] {
  if (result && typeof result === 'object' && Array.isArray((result as { rows?: unknown }).rows)) return (result as { rows: Row[] }).rows;
  if (Array.isArray(result)) {
    const first = result[0] as unknown;
    if (Array.isArray(first)) return (first as Row[]).map((row) => ({ ...row }));
    return [];
  }
  return [];
}
