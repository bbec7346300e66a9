import type { Row } from './types';

/** The promise API of mysql2 (`PromisePool`, `PromiseConnection`, `PromisePoolConnection`). */
interface Mysql2Promise {
  query(sql: string, params?: unknown[]): Promise<[unknown, unknown]>;
}

const PROMISE_NAMES = new Set(['PromisePool', 'PromiseConnection', 'PromisePoolConnection', 'PromisePoolCluster']);
const CALLBACK_NAMES = new Set(['Pool', 'Connection', 'PoolConnection', 'PoolCluster']);

/** True for a mysql2 pool or connection, callback or promise flavour (checked on the instance). */
export function isMysql2(value: object): boolean {
  const v = value as Record<string, unknown> & { constructor?: { name?: string } };
  if (typeof v.query !== 'function') return false;
  const name = v.constructor?.name ?? '';
  if (PROMISE_NAMES.has(name)) return true;
  // The callback flavour: a `promise()` wrapper and a mysql2 config object.
  return CALLBACK_NAMES.has(name) && typeof v.promise === 'function' && typeof v.config === 'object';
}

export function describeMysql2(value: object): string {
  const v = value as { constructor?: { name?: string }; config?: Record<string, unknown>; pool?: { config?: Record<string, unknown> }; connection?: { config?: Record<string, unknown> } };
  const config = v.config ?? v.pool?.config ?? v.connection?.config ?? {};
  const c = (config.connectionConfig as Record<string, unknown> | undefined) ?? config;
  const where = c.host !== undefined ? ` (${String(c.host)}:${String(c.port ?? 3306)}/${String(c.database ?? '')})` : '';
  return `mysql2 ${v.constructor?.name ?? 'connection'}${where}`;
}

/**
 * Rewrites PostgreSQL placeholders (`$1`, `$2`, ...) to mysql2's `?`, reordering the parameters to match,
 * so one contract's SQL runs on both. Placeholders inside quotes, backticks and comments are left alone.
 * A statement without `$n` placeholders is returned unchanged (it may already use `?`).
 */
export function toMysqlPlaceholders(sql: string, params: readonly unknown[] = []): { sql: string; params: unknown[] } {
  let out = '';
  const order: number[] = [];
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i]!;
    if (c === "'" || c === '"' || c === '`') {
      let j = i + 1;
      while (j < n) {
        if (sql[j] === '\\') j += 2;
        else if (sql[j] === c) {
          if (sql[j + 1] === c) j += 2;
          else break;
        } else j++;
      }
      out += sql.slice(i, j + 1);
      i = j + 1;
    } else if (c === '-' && sql[i + 1] === '-') {
      const end = sql.indexOf('\n', i);
      const stop = end < 0 ? n : end;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '/' && sql[i + 1] === '*') {
      const end = sql.indexOf('*/', i + 2);
      const stop = end < 0 ? n : end + 2;
      out += sql.slice(i, stop);
      i = stop;
    } else if (c === '$' && /[0-9]/.test(sql[i + 1] ?? '')) {
      let j = i + 1;
      while (j < n && /[0-9]/.test(sql[j]!)) j++;
      order.push(Number(sql.slice(i + 1, j)));
      out += '?';
      i = j;
    } else {
      out += c;
      i++;
    }
  }
  if (order.length === 0) return { sql, params: [...params] };
  return { sql: out, params: order.map((k) => params[k - 1]) };
}

/** A Queryable over a mysql2 handle: `$n` placeholders accepted, rows of a SELECT, `[]` for other statements. */
export function mysql2Query(value: object): (sql: string, params?: readonly unknown[]) => Promise<Row[]> {
  const v = value as { promise?: () => Mysql2Promise; constructor?: { name?: string } };
  const promiseApi: Mysql2Promise = PROMISE_NAMES.has(v.constructor?.name ?? '') ? (value as Mysql2Promise) : v.promise!();
  return async (sql, params) => {
    const rewritten = toMysqlPlaceholders(sql, params);
    const [result] = await promiseApi.query(rewritten.sql, rewritten.params);
    if (!Array.isArray(result)) return []; // a ResultSetHeader: INSERT/UPDATE/DDL
    const isStatementResult = (x: unknown) => Array.isArray(x) || (x as { constructor?: { name?: string } })?.constructor?.name === 'ResultSetHeader';
    // A multi-statement query returns one entry per statement: keep the last one (rows, or none).
    const rows = result.length > 0 && isStatementResult(result[0]) ? result[result.length - 1] : result;
    // Rows come as RowDataPacket instances: hand out plain objects.
    return Array.isArray(rows) ? (rows as Row[]).map((row) => ({ ...row })) : [];
  };
}
