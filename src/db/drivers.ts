import { DatabaseDriverMissingError } from '../errors';
import type { RealDatabaseKind } from './databaseUrl';

/*
 * `pg` and `mysql2` are optional peer dependencies: loaded with require only when `database.kind` names them.
 * The shapes below are the few members the library uses, so its declaration files never import either
 * package (a pg-mem user has neither installed).
 */

/** A node-postgres query result. */
export interface PgResult {
  rows: Array<Record<string, unknown>>;
  rowCount: number | null;
}

/** A node-postgres `Client` (or a `PoolClient`). */
export interface PgClient {
  connect(): Promise<unknown>;
  query(sql: string, params?: unknown[]): Promise<PgResult | PgResult[]>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** A node-postgres `Pool`. */
export interface PgPool {
  query(sql: string, params?: unknown[]): Promise<PgResult>;
  connect(): Promise<PgClient & { release(err?: Error | boolean): void }>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

export interface PgModule {
  Client: new (config: { connectionString: string }) => PgClient;
  Pool: new (config: { connectionString: string; max?: number }) => PgPool;
}

/** A mysql2 promise connection. */
export interface MysqlConnection {
  query(sql: string, params?: unknown[]): Promise<[unknown, unknown]>;
  end(): Promise<void>;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** A mysql2 promise pool. */
export interface MysqlPool {
  query(sql: string, params?: unknown[]): Promise<[unknown, unknown]>;
  getConnection(): Promise<MysqlConnection & { release(): void }>;
  end(): Promise<void>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
}

export interface MysqlModule {
  createConnection(config: { uri: string; multipleStatements?: boolean }): Promise<MysqlConnection>;
  createPool(config: { uri: string; multipleStatements?: boolean; connectionLimit?: number }): MysqlPool;
}

const PACKAGE: Record<RealDatabaseKind, string> = { postgres: 'pg', mysql: 'mysql2' };

function load(kind: RealDatabaseKind, id: string): unknown {
  try {
    return require(id);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException | null)?.code;
    const message = (err as Error | null)?.message ?? '';
    // Only "this package is not installed" is ours to explain; anything else (a broken install) goes up as is.
    if (code === 'MODULE_NOT_FOUND' && message.includes(`'${PACKAGE[kind]}`)) throw new DatabaseDriverMissingError(kind, PACKAGE[kind], err);
    throw err;
  }
}

/** node-postgres, for `database.kind: 'postgres'`. @throws DatabaseDriverMissingError when it is not installed. */
export function loadPg(): PgModule {
  return load('postgres', 'pg') as PgModule;
}

/** mysql2's promise API, for `database.kind: 'mysql'`. @throws DatabaseDriverMissingError when it is not installed. */
export function loadMysql2(): MysqlModule {
  return load('mysql', 'mysql2/promise') as MysqlModule;
}
