import type { Row } from './types';

/**
 * Anything with node-postgres' calling convention: `query(sql, params)` resolving to `{ rows }` (a `pg.Pool`,
 * a `pg.Client`, a `PoolClient`, pg-mem's `adapters.createPg()` classes, PGlite).
 */
export interface PgLike {
  query(sql: string, params?: unknown[]): Promise<unknown>;
}

/** Rows of a node-postgres style result: `{ rows }`, or for a multi-statement query the last result's rows. */
export function rowsOfPgResult(result: unknown): Row[] | undefined {
  if (Array.isArray(result)) {
    // node-postgres returns one result per statement for a multi-statement text query.
    const last = result[result.length - 1] as { rows?: unknown } | undefined;
    return last && Array.isArray(last.rows) ? (last.rows as Row[]) : undefined;
  }
  if (result && typeof result === 'object' && Array.isArray((result as { rows?: unknown }).rows)) {
    return (result as { rows: Row[] }).rows;
  }
  return undefined;
}

/** True for a node-postgres `Pool`, `Client` or `PoolClient` (checked on the instance, not by `instanceof`). */
export function isNodePostgres(value: object): boolean {
  const v = value as Record<string, unknown>;
  if (typeof v.query !== 'function') return false;
  // Pool: totalCount/idleCount + options; Client and PoolClient: connectionParameters.
  return (
    ('connectionParameters' in v && typeof v.connectionParameters === 'object') ||
    ('totalCount' in v && 'idleCount' in v && 'options' in v)
  );
}

/** A short description of a node-postgres handle for messages: `node-postgres Pool (127.0.0.1:5432/test)`. */
export function describeNodePostgres(value: object): string {
  const v = value as { constructor?: { name?: string }; options?: Record<string, unknown>; connectionParameters?: Record<string, unknown> };
  const p = v.connectionParameters ?? v.options ?? {};
  const where = p.host !== undefined ? ` (${String(p.host)}:${String(p.port ?? 5432)}/${String(p.database ?? '')})` : '';
  const name = v.constructor?.name === 'BoundPool' ? 'Pool' : (v.constructor?.name ?? 'client');
  return `node-postgres ${name}${where}`;
}
