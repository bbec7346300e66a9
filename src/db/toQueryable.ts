import { UnsupportedDatabaseHandleError } from '../errors';
import { describeKnex, isKnex, knexDialect, knexQuery } from './knex';
import { describeMysql2, isMysql2, mysql2Query } from './mysql';
import { isPostgresJs, postgresJsQuery } from './postgresjs';
import { describeSequelize, isSequelize, sequelizeDialect, sequelizeQuery } from './sequelize';
import { describeNodePostgres, isNodePostgres, rowsOfPgResult, type PgLike } from './postgres';
import type { IMemoryDb } from 'pg-mem';
import { createPgMemAdapter } from './pgMemPool';
import { realTestDbInfo } from './realTestDb';
import { ACCEPTED_DATABASE_HANDLES, type Queryable, type Row } from './types';

/** Which kind of handle a {@link DatabaseHandle} wraps. */
export type DatabaseKind = 'testDb' | 'pg-mem' | 'node-postgres' | 'mysql2' | 'knex' | 'sequelize' | 'postgres.js' | 'function' | 'queryable';

/** The SQL dialect of a handle, where it is known: it decides how tables are listed and rows are batched. */
export type SqlDialect = 'postgres' | 'mysql' | 'unknown';

/**
 * Every database handle the library accepts, normalised to one {@link Queryable}. Built by
 * {@link toQueryable}; the matcher, contract `load` functions and the race helpers all use it.
 */
export interface DatabaseHandle extends Queryable {
  readonly kind: DatabaseKind;
  readonly dialect: SqlDialect;
  /** The handle as the caller passed it. */
  readonly handle: unknown;
  /** For messages: `pg-mem database`, `node-postgres Pool (127.0.0.1:5432/test)`, ... */
  describe(): string;
}

/** The plain function form: `(sql, params) => rows` (or a promise of rows, or of `{ rows }`). */
export type QueryFunction = (sql: string, params: readonly unknown[]) => unknown;

/** What every "not a database handle" message lists. */
export { ACCEPTED_DATABASE_HANDLES };

const cache = new WeakMap<object, DatabaseHandle>();

function isPgMemDb(value: object): boolean {
  const v = value as { public?: { many?: unknown }; adapters?: { createPg?: unknown }; backup?: unknown };
  return typeof v.public?.many === 'function' && typeof v.adapters?.createPg === 'function' && typeof v.backup === 'function';
}

function isTestDb(value: object): boolean {
  const v = value as { mem?: object; pool?: object; reset?: unknown; query?: unknown };
  return typeof v.query === 'function' && typeof v.reset === 'function' && !!v.mem && isPgMemDb(v.mem) && !!v.pool;
}

/** Rows from whatever a generic `query` or function returned: an array of rows, or `{ rows }`. */
function rowsOf(result: unknown, what: string, sql: string): Row[] {
  if (Array.isArray(result) && result.every((r) => r !== null && typeof r === 'object' && !Array.isArray(r))) return result as Row[];
  const rows = rowsOfPgResult(result);
  if (rows) return rows;
  if (result === undefined || result === null) return [];
  throw new UnsupportedDatabaseHandleError(
    'A database handle',
    `${what}, whose query returned ${Array.isArray(result) ? 'an array that is not rows' : typeof result} for ` +
      `${JSON.stringify(sql.slice(0, 80))} (a query must resolve to an array of row objects or to { rows })`,
  );
}

function make(kind: DatabaseKind, dialect: SqlDialect, handle: unknown, description: string, run: (sql: string, params: readonly unknown[]) => Promise<Row[]>): DatabaseHandle {
  return {
    kind,
    dialect,
    handle,
    describe: () => description,
    query<T extends Row = Row>(sql: string, params: readonly unknown[] = []): Promise<T[]> {
      return run(sql, params) as Promise<T[]>;
    },
  };
}

function build(value: unknown): DatabaseHandle | undefined {
  // A Knex instance is a function too: told apart by its client before the query-function form.
  if (isKnex(value)) return make('knex', knexDialect(value), value, describeKnex(value), knexQuery(value));
  // postgres.js' sql`...` is a function too: sql(text, params) would be its identifier / helper form.
  if (isPostgresJs(value)) return make('postgres.js', 'postgres', value, 'postgres.js sql', postgresJsQuery(value));
  if (typeof value === 'function') {
    const fn = value as QueryFunction;
    const what = `the query function ${fn.name || '(anonymous)'}`;
    return make('function', 'unknown', value, what, async (sql, params) => rowsOf(await fn(sql, params), what, sql));
  }
  if (value === null || typeof value !== 'object') return undefined;
  // testDb() on a real PostgreSQL / MySQL (database.kind): its own dialect (checked first: its `mem` throws).
  const real = realTestDbInfo(value);
  if (real) {
    const db = value as Queryable;
    return make('testDb', real.kind, value, real.describe, (sql, params) => db.query(sql, params));
  }
  if (isTestDb(value)) {
    const db = value as Queryable;
    return make('testDb', 'postgres', value, 'testDb() (pg-mem)', (sql, params) => db.query(sql, params));
  }
  if (isPgMemDb(value)) {
    const { Pool } = createPgMemAdapter<PgLike>(value as IMemoryDb);
    const pool = new Pool();
    return make('pg-mem', 'postgres', value, 'pg-mem database', async (sql, params) => rowsOfPgResult(await pool.query(sql, [...params])) ?? []);
  }
  // Before the generic `query` form: Sequelize's query(sql, options) takes options, not parameters.
  if (isSequelize(value)) return make('sequelize', sequelizeDialect(value), value, describeSequelize(value), sequelizeQuery(value));
  if (isMysql2(value)) {
    return make('mysql2', 'mysql', value, describeMysql2(value), mysql2Query(value));
  }
  if (isNodePostgres(value)) {
    const pg = value as PgLike;
    const what = describeNodePostgres(value);
    return make('node-postgres', 'postgres', value, what, async (sql, params) => rowsOf(await pg.query(sql, [...params]), what, sql));
  }
  const q = value as { query?: unknown; constructor?: { name?: string } };
  if (typeof q.query === 'function') {
    const what = `${q.constructor?.name && q.constructor.name !== 'Object' ? q.constructor.name : 'object'} with query()`;
    // pg-mem's createPg() Pool/Client and PGlite speak node-postgres: treat `{ rows }` results as Postgres.
    const dialect: SqlDialect = q.constructor?.name === 'MemPg' || q.constructor?.name === 'PGlite' ? 'postgres' : 'unknown';
    return make('queryable', dialect, value, what, async (sql, params) => rowsOf(await (q.query as QueryFunction).call(value, sql, params), what, sql));
  }
  return undefined;
}

/**
 * Normalises a database handle, or returns `undefined` when `value` is none of
 * {@link ACCEPTED_DATABASE_HANDLES}. The same object always gives the same handle.
 */
export function tryQueryable(value: unknown): DatabaseHandle | undefined {
  if (value !== null && (typeof value === 'object' || typeof value === 'function')) {
    const hit = cache.get(value);
    if (hit) return hit;
    const made = build(value);
    if (made) cache.set(value, made);
    return made;
  }
  return undefined;
}

/**
 * Normalises a database handle: `testDb()`, a pg-mem database, a node-postgres Pool/Client, a mysql2
 * pool/connection, a Knex or Sequelize instance, a postgres.js sql, a Queryable or a `(sql, params) => rows` function. mysql2 handles accept PostgreSQL `$n`
 * placeholders (rewritten to `?`), so one contract's SQL runs on both.
 * @throws UnsupportedDatabaseHandleError for anything else.
 */
export function toQueryable(value: unknown, what = 'A database handle'): DatabaseHandle {
  const handle = tryQueryable(value);
  if (!handle) throw new UnsupportedDatabaseHandleError(what, describeValue(value));
  return handle;
}

/** A short, safe description of any value for error messages. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return `a function ${value.name || '(anonymous)'}`;
  if (typeof value !== 'object') return `${typeof value} ${JSON.stringify(value)}`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  return name && name !== 'Object' ? `an instance of ${name}` : `an object with keys ${Object.keys(value).slice(0, 6).join(', ') || '(none)'}`;
}
