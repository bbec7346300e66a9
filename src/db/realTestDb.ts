import { readFileSync } from 'node:fs';
import { DatabaseKindMismatchError, DatabaseResetError } from '../errors';
import type { RealDatabaseKind } from './databaseUrl';
import { loadMysql2, loadPg, type MysqlConnection, type MysqlPool, type PgClient, type PgPool } from './drivers';
import type { PgCompatiblePool } from './embedded';
import { mysql2Query } from './mysql';
import {
  MYSQL_RESET_SESSION_SQL,
  connectMysql,
  mysqlBlockers,
  mysqlChangesSql,
  mysqlResetSql,
  parseMysqlChanges,
  type MysqlResetPlan,
  type MysqlResetStrategy,
} from './mysqlEngine';
import { rowsOfPgResult } from './postgres';
import { connectPostgres, postgresBlockers, postgresResetSql, type PostgresResetPlan, type PostgresResetStrategy } from './postgresEngine';
import type { Queryable, Row } from './types';

/** How the real database is put back before every test (`database.reset`). */
export type ResetStrategy = PostgresResetStrategy | MysqlResetStrategy;
export type ResetPlan = PostgresResetPlan | MysqlResetPlan;

/** A connection checked out of a {@link Mysql2CompatiblePool}, as mysql2's `PromisePoolConnection`. */
export interface Mysql2CompatibleConnection {
  query<T = any>(sql: string, values?: unknown): Promise<[T, unknown]>;
  execute<T = any>(sql: string, values?: unknown): Promise<[T, unknown]>;
  beginTransaction(): Promise<void>;
  commit(): Promise<void>;
  rollback(): Promise<void>;
  release(): void;
}

/**
 * A mysql2 promise Pool (`require('mysql2/promise').createPool(...)`), typed by the members most services use.
 * It *is* mysql2's `Pool` at run time: `testDb<MysqlTestDb<Pool>>()` types it as such.
 */
export interface Mysql2CompatiblePool {
  query<T = any>(sql: string, values?: unknown): Promise<[T, unknown]>;
  execute<T = any>(sql: string, values?: unknown): Promise<[T, unknown]>;
  getConnection(): Promise<Mysql2CompatibleConnection>;
  end(): Promise<void>;
}

interface RealTestDbBase extends Queryable {
  /** This worker's own database URL (same server and credentials as `database.url`), for clients you build yourself. */
  readonly url: string;
  /** This worker's database name: `jcc_<host>_<jest pid>_w<worker>`. */
  readonly name: string;
  /** Always resolved: the schema was applied in globalSetup. Kept so code written for pg-mem works unchanged. */
  readonly ready: Promise<void>;
  /** Puts the database back to the state right after the schema (the library calls it before every test). */
  reset(): Promise<void>;
}

/**
 * `testDb()` with `database.kind: 'postgres'`: this worker's own PostgreSQL database. `pool` is a real
 * node-postgres `Pool` (typed as {@link PgCompatiblePool}; `testDb<PostgresTestDb<Pool>>()` types it as `pg.Pool`).
 */
export interface PostgresTestDb<Pool = PgCompatiblePool> extends RealTestDbBase {
  readonly kind: 'postgres';
  readonly pool: Pool;
}

/**
 * `testDb()` with `database.kind: 'mysql'`: this worker's own MySQL/MariaDB database. `query` accepts `?` and
 * PostgreSQL-style `$1` placeholders; `pool` is a mysql2 promise Pool.
 */
export interface MysqlTestDb<Pool = Mysql2CompatiblePool> extends RealTestDbBase {
  readonly kind: 'mysql';
  readonly pool: Pool;
}

/** What the preset hands each worker about the real databases (part of the preset state). */
export interface RealDatabaseState {
  kind: RealDatabaseKind;
  /** One database per Jest worker, indexed by JEST_WORKER_ID - 1. */
  urls: string[];
  names: string[];
  /** The reset plan (JSON), read from the template once in globalSetup. */
  planFile: string;
  strategy: ResetStrategy;
}

const REAL_TEST_DB = Symbol.for('jest-cache-consistency.realTestDb');

/** The kind and a description of a real-database `testDb()` handle, or undefined for anything else. */
export function realTestDbInfo(value: unknown): { kind: RealDatabaseKind; describe: string } | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const info = (value as { [REAL_TEST_DB]?: { kind: RealDatabaseKind; describe: string } })[REAL_TEST_DB];
  return info && typeof info === 'object' ? info : undefined;
}

function describeHandle(kind: RealDatabaseKind, name: string): string {
  return `testDb() (${kind === 'postgres' ? 'PostgreSQL' : 'MySQL'} database ${name})`;
}

/** Adds what every real handle has besides its own members: the brand, and `mem` failing with a clear error. */
function finish<T extends object>(handle: T, kind: RealDatabaseKind, name: string): T {
  Object.defineProperty(handle, REAL_TEST_DB, { value: { kind, describe: describeHandle(kind, name) }, enumerable: false });
  Object.defineProperty(handle, 'mem', {
    enumerable: false,
    get() {
      throw new DatabaseKindMismatchError('testDb().mem (the pg-mem instance)', kind);
    },
  });
  return handle;
}

/** A PostgreSQL handle on `url`: a node-postgres Pool and `query` over it. */
export function createPostgresHandle(url: string, name: string, reset: () => Promise<void>): PostgresTestDb & { close(): Promise<void> } {
  const { Pool } = loadPg();
  const pool: PgPool = new Pool({ connectionString: url });
  // An idle client ended by the server (teardown drops the database WITH (FORCE)) must not crash the worker.
  pool.on('error', () => {});
  // Clients checked out and never released: pool.end() would wait for them for ever (mysql2's pool ends them).
  const checkedOut = new Set<{ release(err?: Error | boolean): void }>();
  (pool as unknown as NodeJS.EventEmitter).on('acquire', (client: { release(err?: Error | boolean): void }) => checkedOut.add(client));
  (pool as unknown as NodeJS.EventEmitter).on('release', (_err: unknown, client: { release(err?: Error | boolean): void }) => checkedOut.delete(client));
  const handle = {
    kind: 'postgres' as const,
    url,
    name,
    pool: pool as unknown as PgCompatiblePool,
    ready: Promise.resolve(),
    async query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
      return (rowsOfPgResult(await pool.query(sql, params ? [...params] : undefined)) ?? []) as T[];
    },
    reset,
    async close() {
      const ended = pool.end();
      // A client a test never released: ended too (its open transaction rolls back with it).
      for (const client of [...checkedOut]) client.release(true);
      await ended;
    },
  };
  Object.defineProperty(handle, 'close', { enumerable: false });
  return finish(handle, 'postgres', name);
}

/** A MySQL handle on `url`: a mysql2 promise Pool and `query` over it (`$n` placeholders accepted). */
export function createMysqlHandle(url: string, name: string, reset: () => Promise<void>): MysqlTestDb & { close(): Promise<void> } {
  const mysql = loadMysql2();
  const pool: MysqlPool = mysql.createPool({ uri: url });
  const run = mysql2Query(pool);
  const handle = {
    kind: 'mysql' as const,
    url,
    name,
    pool: pool as unknown as Mysql2CompatiblePool,
    ready: Promise.resolve(),
    async query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
      return (await run(sql, params)) as T[];
    },
    reset,
    close: () => pool.end(),
  };
  Object.defineProperty(handle, 'close', { enumerable: false });
  return finish(handle, 'mysql', name);
}

function errorCode(err: unknown): string {
  const e = err as { code?: unknown; errno?: unknown } | null;
  return String(e?.code ?? e?.errno ?? '');
}

/**
 * This worker's real database in one test file: the handle `testDb()` returns, and the reset that runs
 * before every test over a connection of its own (the pool stays the service's).
 */
export class RealDatabase {
  readonly kind: RealDatabaseKind;
  readonly url: string;
  readonly name: string;
  readonly strategy: ResetStrategy;
  readonly #planFile: string;
  #plan: ResetPlan | undefined;
  #handle: ((PostgresTestDb | MysqlTestDb) & { close(): Promise<void> }) | undefined;
  #conn: Promise<PgClient | MysqlConnection> | undefined;
  #script: string | undefined;

  constructor(state: RealDatabaseState, worker: number) {
    this.kind = state.kind;
    this.url = state.urls[worker]!;
    this.name = state.names[worker]!;
    this.strategy = state.strategy;
    this.#planFile = state.planFile;
  }

  /** The handle `testDb()` returns: the same object for the whole test file. */
  handle(): PostgresTestDb | MysqlTestDb {
    if (!this.#handle) {
      const reset = () => this.reset();
      this.#handle = this.kind === 'postgres' ? createPostgresHandle(this.url, this.name, reset) : createMysqlHandle(this.url, this.name, reset);
    }
    return this.#handle;
  }

  plan(): ResetPlan {
    this.#plan ??= JSON.parse(readFileSync(this.#planFile, 'utf8')) as ResetPlan;
    return this.#plan;
  }

  #connection(): Promise<PgClient | MysqlConnection> {
    if (!this.#conn) {
      this.#conn = (async () => {
        if (this.kind === 'postgres') return connectPostgres(this.url);
        const conn = await connectMysql(this.url);
        await conn.query(MYSQL_RESET_SESSION_SQL);
        return conn;
      })();
      // A failed connect is retried by the next reset.
      this.#conn.catch(() => (this.#conn = undefined));
    }
    return this.#conn;
  }

  /** Empties every table, writes the schema's rows back and rewinds sequences / AUTO_INCREMENT counters. */
  async reset(): Promise<void> {
    const conn = await this.#connection();
    const plan = this.plan();
    if (plan.kind === 'postgres') {
      const client = conn as PgClient;
      this.#script ??= postgresResetSql(plan, this.strategy as PostgresResetStrategy);
      try {
        await client.query(this.#script);
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw await this.#failure(err, errorCode(err) === '55P03' ? await postgresBlockers(client) : '');
      }
      return;
    }
    const mysql = conn as MysqlConnection;
    let script: string | undefined;
    try {
      if (this.strategy === 'truncate') script = this.#script ??= mysqlResetSql(plan);
      else {
        const [changes] = await mysql.query(mysqlChangesSql(plan));
        script = mysqlResetSql(plan, parseMysqlChanges(changes));
      }
      if (script) await mysql.query(script);
    } catch (err) {
      await mysql.query('ROLLBACK; SET FOREIGN_KEY_CHECKS = 1').catch(() => {});
      const code = errorCode(err);
      throw await this.#failure(err, code === 'ER_LOCK_WAIT_TIMEOUT' || code === '1205' ? await mysqlBlockers(mysql) : '');
    }
  }

  async #failure(err: unknown, blockers: string): Promise<DatabaseResetError> {
    const message = (err as Error)?.message ?? String(err);
    const hint = blockers
      ? `\nThese connections hold a transaction open on it (a test that began a transaction and never ended it, or a ` +
        `client that was not released):\n${blockers}\nCommit or roll back in the test that opened it, and release pool clients.`
      : '';
    return new DatabaseResetError(this.name, `${message}${hint}`, err);
  }

  /** Ends the pool and the reset connection. Safe to call twice. */
  async close(): Promise<void> {
    const tasks: Array<Promise<unknown>> = [];
    if (this.#handle) tasks.push(this.#handle.close().catch(() => {}));
    if (this.#conn) tasks.push(this.#conn.then((c) => c.end()).catch(() => {}));
    this.#handle = undefined;
    this.#conn = undefined;
    await Promise.all(tasks);
  }
}
