/**
 * Sequelize instances as database handles. A Sequelize instance has a `query` method, but `sequelize.query(sql,
 * options)` takes options, not parameters: taken for a Queryable, `query(sql, [1])` ran with the parameters ignored.
 * It is recognised by its connection manager and runs statements with `bind` (Sequelize's `$1` parameters).
 */
import type { Row } from './types';

export interface SequelizeLike {
  query(sql: string, options?: object): Promise<unknown>;
  getDialect(): string;
  connectionManager: SequelizeConnectionManagerLike;
}

export interface SequelizeConnectionManagerLike {
  getConnection(options?: object): Promise<unknown>;
  releaseConnection(connection: unknown): unknown;
}

export function isSequelize(value: unknown): value is SequelizeLike {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Partial<SequelizeLike>;
  const m = v.connectionManager as Partial<SequelizeConnectionManagerLike> | undefined;
  return typeof v.query === 'function' && typeof v.getDialect === 'function' && !!m && typeof m.getConnection === 'function' && typeof m.releaseConnection === 'function';
}

/** 'postgres', 'mysql' (mysql and mariadb dialects) or 'unknown'. */
export function sequelizeDialect(sequelize: SequelizeLike): 'postgres' | 'mysql' | 'unknown' {
  const d = sequelize.getDialect();
  if (d === 'postgres') return 'postgres';
  if (d === 'mysql' || d === 'mariadb') return 'mysql';
  return 'unknown';
}

export function describeSequelize(sequelize: SequelizeLike): string {
  return `Sequelize instance (${sequelize.getDialect()} dialect)`;
}

/**
 * A Queryable over a Sequelize instance: `$n` parameters are Sequelize's own bind parameters (on every dialect); a
 * statement without them gets its parameters as `?` replacements. Resolves with the rows (`[]` for other statements).
 */
export function sequelizeQuery(sequelize: SequelizeLike): (sql: string, params?: readonly unknown[]) => Promise<Row[]> {
  return async (sql, params = []) => {
    const options = params.length === 0 ? {} : /\$[0-9]/.test(sql) ? { bind: [...params] } : { replacements: [...params] };
    const [results] = (await sequelize.query(sql, { ...options, raw: true })) as [unknown, unknown];
    return Array.isArray(results) ? (results as Row[]).map((row) => ({ ...row })) : [];
  };
}
