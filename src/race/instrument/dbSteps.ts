/**
 * Database instrumentation: each actor gets a handle of the same shape as the one the scenario passed
 * (so the service under test takes it unchanged), backed by the actor's own connection where the handle
 * has connections, and every statement sent through it is one step.
 *
 * | handle given                      | actor's handle                                  | own connection            |
 * |-----------------------------------|-------------------------------------------------|---------------------------|
 * | `testDb()`                        | `{ query(sql, params) => rows, pool, mem }`      | a pg-mem pool client      |
 * | node-postgres / pg-mem `Pool`     | Pool-like: `query`, `connect()` (same connection) | `pool.connect()`          |
 * | node-postgres `Client`            | Client-like: `query`                             | a new Client, same config |
 * | mysql2 pool (promise or callback) | promise pool: `query`, `execute`, `getConnection` | `pool.getConnection()`    |
 * | a Knex / Sequelize instance       | the same instance, bound (see connections.ts)    | one of its own pool's     |
 * | a postgres.js `sql`               | an `sql` tagged template (and `unsafe`)          | `sql.reserve()`           |
 * | `{ query(sql, params) }`          | `{ query }`                                      | shared (no connections)   |
 * | `(sql, params) => rows`           | a function                                       | shared (no connections)   |
 *
 * The node-postgres and mysql2 handles also take their driver's callback form (a trailing callback):
 * `connect((err, client, release) => ...)`, `query(sql, values, (err, result) => ...)`, `getConnection(cb)`.
 */
import { isKnex, type KnexLike } from '../../db/knex';
import { isSequelize } from '../../db/sequelize';
import type { PostgresJsLike } from '../../db/postgresjs';
import { RaceUninstrumentedIoError } from '../../errors';
import { EventEmitter } from 'node:events';
import { tryQueryable } from '../../db/toQueryable';
import { realTestDbInfo } from '../../db/realTestDb';
import type { ActorLink } from './actorLink';
import { formatOutcome, formatRows, formatSql, sqlKeyword } from './labels';
import type { StepInfo, StepOutcome, StepRequest } from '../step';

export type DbHandleKind = 'testDb' | 'pg-pool' | 'pg-client' | 'mysql2-pool' | 'knex' | 'sequelize' | 'postgres.js' | 'queryable' | 'function';

type AnyFn = (...args: unknown[]) => unknown;
type Obj = Record<string, unknown>;

/**
 * How the race gives an actor its own connection for `handle`: which handle it is comes from the one
 * recogniser of database handles (db/toQueryable.ts); the race only tells pools from clients. A pg-mem
 * database object (newDb()) and a real database's testDb() are not handles an actor can be given (the
 * preset's real testDb() reaches the race as its pool, see session/resolve.ts).
 */
export function dbHandleKind(handle: unknown): DbHandleKind | undefined {
  const known = tryQueryable(handle);
  if (!known) return undefined;
  const h = handle as Obj;
  switch (known.kind) {
    case 'function':
      return 'function';
    case 'knex':
      // Only the drivers whose connections the race can drive: node-postgres, mysql2.
      return known.dialect === 'unknown' || (handle as KnexLike).client.driverName === 'mysql' ? undefined : 'knex';
    case 'postgres.js':
      return 'postgres.js';
    case 'sequelize':
      // Only its mysql dialect (mysql2 connections) is driven so far.
      return (handle as { getDialect(): string }).getDialect() === 'mysql' ? 'sequelize' : undefined;
    case 'testDb':
      return realTestDbInfo(handle) ? undefined : 'testDb';
    case 'mysql2':
      // A mysql2 Connection (no getConnection) is driven as a pool that connects, as the race always did.
      return typeof h.getConnection === 'function' ? 'mysql2-pool' : typeof h.connect === 'function' ? 'pg-pool' : 'queryable';
    case 'node-postgres':
      return 'connectionParameters' in h ? 'pg-client' : 'pg-pool';
    case 'queryable':
      // By shape, as before the handles were recognised by library: a pool that lends connections
      // (getConnection, as mysql2's), or one that connects (pg-mem's createPg() Pool and Client).
      if (typeof h.getConnection === 'function') return 'mysql2-pool';
      if (typeof h.connect === 'function') return 'connectionParameters' in h ? 'pg-client' : 'pg-pool';
      return 'queryable';
    default:
      return undefined;
  }
}

export function dbStepInfo(actor: string, sql: string, params: readonly unknown[] | undefined): StepInfo {
  return {
    actor,
    kind: 'db',
    command: sqlKeyword(sql),
    args: params ? [...params] : [],
    keys: [],
    writes: [],
    sql,
    description: `db ${formatSql(sql, params)}`,
  };
}

/** Turns whatever a query returned into rows + a row count, for the label. */
function describeDbResult(keyword: string) {
  return (outcome: StepOutcome) =>
    formatOutcome(outcome, (value) => {
      if (Array.isArray(value) && typeof (value as { count?: unknown }).count === 'number' && 'command' in value) {
        // postgres.js: an array of rows carrying the statement's count.
        return formatRows(value, (value as unknown as { count: number }).count, keyword);
      }
      if (Array.isArray(value)) {
        // mysql2: [rows | ResultSetHeader, fields]; plain: rows.
        if (value.length === 2 && (Array.isArray(value[0]) || (value[0] && typeof value[0] === 'object' && 'affectedRows' in (value[0] as Obj)))) {
          const first = value[0] as unknown;
          if (Array.isArray(first)) return formatRows(first, first.length, keyword);
          return formatRows(undefined, Number((first as Obj).affectedRows), keyword);
        }
        return formatRows(value, value.length, keyword);
      }
      if (value && typeof value === 'object') {
        const v = value as { rows?: unknown[]; rowCount?: number | null };
        if (Array.isArray(v.rows)) return formatRows(v.rows, v.rowCount, keyword);
      }
      return formatRows(undefined, undefined, keyword);
    });
}

/** SQL text and parameters of a node-postgres `query(text | config, values)` call. */
function pgQueryArgs(args: unknown[]): { sql: string; params: unknown[] | undefined } {
  const [first, second] = args;
  if (typeof first === 'string') return { sql: first, params: Array.isArray(second) ? second : undefined };
  const config = (first ?? {}) as { text?: string; sql?: string; values?: unknown[] };
  return { sql: String(config.text ?? config.sql ?? ''), params: Array.isArray(second) ? second : config.values };
}

const TX_OPEN = new Set(['BEGIN', 'START']);
const TX_CLOSE = new Set(['COMMIT', 'ROLLBACK', 'END', 'ABORT']);

/** Tracks whether a connection is inside a transaction, so the race can roll it back between schedules. */
class TxState {
  open = false;
  note(keyword: string): void {
    if (TX_OPEN.has(keyword)) this.open = true;
    else if (TX_CLOSE.has(keyword)) this.open = false;
  }
}

function step(link: ActorLink, tx: TxState | undefined, sql: string, params: readonly unknown[] | undefined, run: () => Promise<unknown>): Promise<unknown> {
  const info = dbStepInfo(link.name, sql, params);
  const request: StepRequest = {
    info,
    execute: async () => {
      tx?.note(info.command);
      return run();
    },
    describeResult: describeDbResult(info.command),
  };
  return link.issue(request);
}

export interface ActorDbConnection {
  readonly kind: DbHandleKind;
  /** The actor's handle, shaped like the base handle. */
  readonly handle: unknown;
  /** Knex, Sequelize: the actor's connection, handed out by the library's bound acquire method. */
  readonly connection?: unknown;
  ready(): Promise<void>;
  /** After a schedule: roll back a transaction a step left open. */
  tidy(): Promise<void>;
  close(): Promise<void>;
}

interface PgClientLike {
  query(...args: unknown[]): Promise<unknown>;
  release?(err?: unknown): void;
  end?(): Promise<void>;
  connect?(): Promise<unknown>;
}

/** A lazily acquired connection, acquired outside every actor (it is the race's, not the actor's). */
interface Lazy<T> {
  (): Promise<T>;
  /** Whether it was ever asked for: closing one that never was has nothing to close (and must not open it). */
  readonly started: boolean;
}

function lazy<T>(acquire: () => Promise<T>): Lazy<T> {
  let p: Promise<T> | undefined;
  const get = () => (p ??= acquire());
  return Object.defineProperty(get, 'started', { get: () => p !== undefined }) as Lazy<T>;
}

/** The trailing node-style callback of a driver call's arguments, taken off them. */
function takeCallback(args: unknown[]): AnyFn | undefined {
  return typeof args[args.length - 1] === 'function' ? (args.pop() as AnyFn) : undefined;
}

/**
 * A driver's callback form: `callback` gets the error, or `success(value)` as its arguments; the call returns
 * undefined, as the drivers' callback forms do. The callback runs in a microtask of its own, outside the
 * promise: what it throws is an uncaught exception, as with the driver, not a swallowed rejection.
 */
function settle<T>(p: Promise<T>, callback: AnyFn, success: (value: T) => unknown[]): undefined {
  p.then(
    (value) => queueMicrotask(() => void callback(null, ...success(value))),
    (err: unknown) => queueMicrotask(() => void callback(err)),
  );
  return undefined;
}

function pgFacade(link: ActorLink, conn: Lazy<PgClientLike>, tx: TxState): Obj {
  const facade: Obj = {
    /** `query(text | config, values?, callback?)`: with a callback (node-postgres' callback form) it returns undefined. */
    query(...args: unknown[]): Promise<unknown> {
      const callback = takeCallback(args);
      const { sql, params } = pgQueryArgs(args);
      const p = step(link, tx, sql, params, async () => (await conn()).query(...args));
      if (!callback) return p;
      return settle(p, callback, (result) => [result]) as unknown as Promise<unknown>;
    },
    /**
     * Pool.connect(): the actor's one connection (a separate process would have its own pool). The callback
     * form `connect((err, client, release) => ...)` (TypeORM's) hands over the same connection.
     */
    connect(callback?: unknown): Promise<unknown> | undefined {
      if (typeof callback === 'function') return settle(Promise.resolve(facade), callback as AnyFn, (client) => [client, facade.release]);
      return Promise.resolve(facade);
    },
    release() {},
    async end() {},
    on() {
      return facade;
    },
    once() {
      return facade;
    },
    removeListener() {
      return facade;
    },
  };
  return facade;
}

/** Opens `link`'s own connection for the database handle `base`. */
export function openActorDb(base: unknown, link: ActorLink): ActorDbConnection {
  const kind = dbHandleKind(base);
  const tx = new TxState();
  switch (kind) {
    case 'testDb': {
      const db = base as { pool: { connect(): Promise<PgClientLike> }; mem: unknown; reset(): Promise<void> };
      const conn = lazy(() => db.pool.connect());
      const pool = pgFacade(link, conn, tx);
      const handle = {
        pool,
        mem: db.mem,
        ready: Promise.resolve(),
        async query(sql: string, params?: readonly unknown[]) {
          const result = (await (pool.query as AnyFn)(sql, params)) as { rows?: unknown[] };
          return result?.rows ?? [];
        },
        reset: () => db.reset(),
      };
      return pgConnection(kind, handle, conn, tx);
    }
    case 'pg-pool': {
      const pool = base as { connect(): Promise<PgClientLike> };
      const conn = lazy(() => pool.connect());
      return pgConnection(kind, pgFacade(link, conn, tx), conn, tx);
    }
    case 'pg-client': {
      const client = base as { constructor: new (config: unknown) => PgClientLike; connectionParameters: unknown };
      const conn = lazy(async () => {
        const own = new client.constructor(client.connectionParameters);
        await own.connect!();
        return own;
      });
      return pgConnection(kind, pgFacade(link, conn, tx), conn, tx, true);
    }
    case 'mysql2-pool': {
      const pool = promisePool(base);
      const conn = lazy(() => pool.getConnection() as Promise<MysqlConnLike>);
      return mysqlConnection(kind, mysqlFacade(link, tx, conn), conn, tx);
    }
    case 'knex':
    case 'sequelize':
      return libraryConnection(base as object, kind, link, tx);
    case 'postgres.js':
      return postgresJsConnection(base as PostgresJsLike, link, tx);
    case 'queryable': {
      const q = base as { query(sql: string, params?: readonly unknown[]): Promise<unknown> };
      const handle = {
        query: (sql: string, params?: readonly unknown[]) => step(link, tx, sql, params, () => q.query(sql, params)),
      };
      return { kind, handle, ready: async () => {}, tidy: async () => {}, close: async () => {} };
    }
    case 'function': {
      const fn = base as (sql: string, params?: readonly unknown[]) => unknown;
      const handle = (sql: string, params?: readonly unknown[]) => step(link, tx, sql, params, async () => fn(sql, params));
      return { kind, handle, ready: async () => {}, tidy: async () => {}, close: async () => {} };
    }
    default:
      throw new TypeError('not a database handle');
  }
}

/**
 * An actor's own connection, opened on first use: ready opens it, tidy rolls back a transaction a schedule
 * left open, close gives it back (`giveBack`: release it to its pool, or end a connection of the actor's own).
 */
function ownConnection<C extends { query(sql: string): Promise<unknown> }>(kind: DbHandleKind, handle: unknown, conn: Lazy<C>, tx: TxState, giveBack: (c: C) => unknown): ActorDbConnection {
  return {
    kind,
    handle,
    ready: async () => {
      await conn();
    },
    async tidy() {
      if (!tx.open) return;
      tx.open = false;
      await (await conn()).query('ROLLBACK');
    },
    async close() {
      if (!conn.started) return;
      const c = await conn().catch(() => undefined);
      if (c) await giveBack(c);
    },
  };
}

function pgConnection(kind: DbHandleKind, handle: unknown, conn: Lazy<PgClientLike>, tx: TxState, owned = false): ActorDbConnection {
  return ownConnection(kind, handle, conn, tx, (c) => (owned ? c.end?.() : c.release?.()));
}

/**
 * The actor's mysql2 handle: promise-shaped, and each method also takes mysql2's callback form (a trailing
 * callback, as the callback API's pool and connections take it, and TypeORM calls them): `query(sql,
 * values?, (err, rows, fields) => ...)`, `getConnection((err, conn) => ...)`, `beginTransaction((err) => ...)`.
 */
function mysqlFacade(link: ActorLink, tx: TxState, conn: () => Promise<MysqlConnLike>): Obj {
  /** `method` in both forms: a promise, or with a trailing callback getting `success(value)`. */
  const either =
    <T>(run: (args: unknown[]) => Promise<T>, success: (value: T) => unknown[], returns?: () => unknown) =>
    (...args: unknown[]) => {
      const callback = takeCallback(args);
      const p = run(args);
      if (!callback) return p;
      settle(p, callback, success);
      return returns?.();
    };
  // mysql2's callback-form query()/execute() return the Query, an EventEmitter (Sequelize calls setMaxListeners on
  // it): an emitter is returned too, which emits nothing (results come through the callback).
  const query = () => new EventEmitter();
  const rowsAndFields = (result: unknown) => (Array.isArray(result) ? result : [result]);
  const none = () => [];
  const txStep = (sql: string, method: 'beginTransaction' | 'commit' | 'rollback') =>
    either(() => step(link, tx, sql, undefined, async () => (await conn())[method]()), none);
  const facade: Obj = {
    query: either((args) => mysqlStep(link, tx, conn, 'query', args[0], args[1]), rowsAndFields, query),
    execute: either((args) => mysqlStep(link, tx, conn, 'execute', args[0], args[1]), rowsAndFields, query),
    beginTransaction: txStep('BEGIN', 'beginTransaction'),
    commit: txStep('COMMIT', 'commit'),
    rollback: txStep('ROLLBACK', 'rollback'),
    getConnection: either(async () => facade, (c) => [c]),
    release() {},
    end: either(async () => undefined, none),
  };
  return facade;
}

function mysqlConnection(kind: DbHandleKind, handle: unknown, conn: Lazy<MysqlConnLike>, tx: TxState): ActorDbConnection {
  return ownConnection(kind, handle, conn, tx, (c) => c.release());
}

interface MysqlConnLike {
  query(sql: unknown, values?: unknown): Promise<unknown>;
  execute(sql: unknown, values?: unknown): Promise<unknown>;
  beginTransaction(): Promise<unknown>;
  commit(): Promise<unknown>;
  rollback(): Promise<unknown>;
  release(): void;
}

/**
 * How many connections a pool handle may open (node-postgres `max`, default 10; mysql2 `connectionLimit`, default
 * 10), or undefined for handles that take no connection of the pool for each actor.
 */
export function poolCapacity(handle: unknown): number | undefined {
  const kind = dbHandleKind(handle);
  if (kind === 'pg-pool') {
    const options = (handle as { options?: { max?: unknown } }).options;
    return typeof options?.max === 'number' ? options.max : 10;
  }
  if (kind === 'mysql2-pool') {
    const h = handle as { pool?: { config?: { connectionLimit?: unknown } }; config?: { connectionLimit?: unknown } };
    const limit = h.config?.connectionLimit ?? h.pool?.config?.connectionLimit;
    return typeof limit === 'number' ? limit : 10;
  }
  return undefined;
}

function promisePool(base: unknown): { getConnection(): Promise<unknown> } {
  const b = base as { promise?: () => unknown; getConnection(...a: unknown[]): unknown };
  // A callback-style pool has promise(); a promise pool's getConnection returns a promise.
  if (typeof b.promise === 'function' && !('pool' in (b as object) && typeof (b as { pool?: { promise?: unknown } }).pool?.promise === 'function')) {
    return b.promise() as { getConnection(): Promise<unknown> };
  }
  return b as { getConnection(): Promise<unknown> };
}

function mysqlStep(link: ActorLink, tx: TxState, conn: () => Promise<MysqlConnLike>, method: 'query' | 'execute', sql: unknown, values: unknown): Promise<unknown> {
  const text = typeof sql === 'string' ? sql : String((sql as { sql?: string })?.sql ?? '');
  const params = Array.isArray(values) ? values : (sql as { values?: unknown[] })?.values;
  return step(link, tx, text, params, async () => (await conn())[method](sql, values));
}

/**
 * Libraries that take a connection from a pool of their own for each statement or transaction, and give it back:
 * where the methods that do it live, and the SQL dialect of their connections.
 */
export interface PooledLibrary {
  readonly holder: Record<string, unknown>;
  readonly acquire: string;
  readonly release: string;
  readonly dialect: 'postgres' | 'mysql';
}

export function pooledLibrary(base: unknown): PooledLibrary | undefined {
  const dialect = tryQueryable(base)?.dialect;
  if (dialect !== 'postgres' && dialect !== 'mysql') return undefined;
  if (isKnex(base)) return { holder: base.client as unknown as Record<string, unknown>, acquire: 'acquireConnection', release: 'releaseConnection', dialect };
  if (isSequelize(base)) return { holder: base.connectionManager as unknown as Record<string, unknown>, acquire: 'getConnection', release: 'releaseConnection', dialect };
  return undefined;
}

type AcquireFn = (...args: unknown[]) => Promise<unknown>;
type ReleaseFn = (connection: unknown) => unknown;

/** A library's acquire and release methods before bindToActors replaced them: the actors' own connections come from its pool. */
export const LIBRARY_ORIGINALS = new WeakMap<object, { acquire: AcquireFn; release: ReleaseFn }>();
/** Actors' connections handed to a library: its bound release method keeps them (they go back to the pool when the race ends). */
export const ACTOR_LIBRARY_CONNECTIONS = new WeakSet<object>();

/**
 * An actor's connection for a Knex or Sequelize instance: one raw connection made by the library's own pool factory
 * (a node-postgres Client, a mysql2 connection) for the whole race, outside the pool, and closed when it ends (where
 * the pool's factory is unknown: taken from the pool and given back). The library
 * sends each statement with `connection.query(config, callback)` (pg) or mysql2's `query` / `execute` with a
 * callback: the facade makes each one a step. The handle is the instance itself, bound to actors.
 */
function libraryConnection(base: object, kind: DbHandleKind, link: ActorLink, tx: TxState): ActorDbConnection {
  const lib = pooledLibrary(base)!;
  const { holder } = lib;
  const originals = LIBRARY_ORIGINALS.get(holder) ?? { acquire: holder[lib.acquire] as AcquireFn, release: holder[lib.release] as ReleaseFn };
  // Made by the pool's own factory (the driver's connect, then the user's afterCreate or afterConnect hooks), outside
  // the pool, so the actors' connections never use up a small pool the service itself still draws from.
  const factory = poolFactory(holder);
  const raw = lazy(() => (factory ? factory.create() : originals.acquire.call(holder)));
  const mysql = lib.dialect === 'mysql';
  const conn = mysql ? lazy(async () => ((await raw()) as { promise(): MysqlConnLike }).promise()) : (raw as Lazy<PgClientLike>);
  const facade = mysql ? mysqlFacade(link, tx, conn as Lazy<MysqlConnLike>) : pgFacade(link, conn as Lazy<PgClientLike>, tx);
  ACTOR_LIBRARY_CONNECTIONS.add(facade);
  return {
    kind,
    handle: base,
    connection: facade,
    ready: async () => {
      await conn();
    },
    async tidy() {
      if (!tx.open) return;
      tx.open = false;
      await ((await conn()) as { query(sql: string): Promise<unknown> }).query('ROLLBACK');
    },
    async close() {
      if (!raw.started) return;
      const c = await raw().catch(() => undefined);
      if (c) await (factory ? factory.destroy(c) : originals.release.call(holder, c));
    },
  };
}

/**
 * The library pool's own factory, when it has one we know: tarn's `creator` and `destroyer` (Knex: `client.pool`),
 * sequelize-pool's `_factory` (Sequelize without replication: `connectionManager.pool`, whose `create` runs the
 * beforeConnect/afterConnect hooks). Otherwise the actors' connections are taken from the pool itself.
 */
function poolFactory(holder: Record<string, unknown>): { create(): Promise<unknown>; destroy(c: unknown): unknown } | undefined {
  const pool = holder.pool as { creator?: unknown; destroyer?: unknown; _factory?: { create?: unknown; destroy?: unknown } } | undefined;
  if (!pool) return undefined;
  if (typeof pool.creator === 'function' && typeof pool.destroyer === 'function') {
    const creator = pool.creator as () => unknown;
    const destroyer = pool.destroyer as (c: unknown) => unknown;
    return { create: async () => creator.call(pool), destroy: (c) => destroyer.call(pool, c) };
  }
  const factory = pool._factory;
  if (factory && typeof factory.create === 'function' && typeof factory.destroy === 'function') {
    const create = factory.create as () => unknown;
    const destroy = factory.destroy as (c: unknown) => unknown;
    return { create: async () => create.call(factory), destroy: (c) => destroy.call(factory, c) };
  }
  return undefined;
}

/** A postgres.js query's text for the label: `$n` for each parameter, `${...}` for a fragment or helper. */
function postgresJsText(strings: readonly string[], args: readonly unknown[]): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  let sql = strings[0] ?? '';
  args.forEach((arg, i) => {
    const fragment = arg !== null && typeof arg === 'object' && !Array.isArray(arg) && !(arg instanceof Date) && !Buffer.isBuffer(arg);
    if (fragment) sql += '${...}';
    else {
      params.push(arg);
      sql += `$${params.length}`;
    }
    sql += strings[i + 1] ?? '';
  });
  return { sql, params };
}

const POSTGRES_JS_UNSUPPORTED = ['begin', 'reserve', 'listen', 'subscribe', 'notify', 'file', 'largeObject', 'end', 'close'] as const;

/**
 * An actor's postgres.js handle: an `sql` tagged template whose queries run on the actor's own connection
 * (`sql.reserve()`, taken for the race and released when it ends). A query is lazy in postgres.js (it runs when
 * awaited): it is built as usual (so it can be a fragment of another query, which is never awaited and no step of its
 * own), and awaiting it issues the step, whose execution sends the same query (its strings, arguments and modifiers:
 * `.values()`, `.raw()`, `.simple()`, `.describe()`) on the reserved connection. `sql.unsafe(text, params)` is the
 * same; helpers (`sql(name)`, `sql(object)`, `sql.json`, ...) pass through. What the race cannot order on one
 * connection (`begin`, `reserve`, `listen`, `cursor`, `forEach`, ...) throws RACE_UNINSTRUMENTED_IO.
 */
function postgresJsConnection(base: PostgresJsLike, link: ActorLink, tx: TxState): ActorDbConnection {
  const reserved = lazy(() => base.reserve());
  type QueryLike = PromiseLike<unknown> & Record<string, unknown>;
  interface QueryState {
    strings: readonly string[];
    args: unknown[];
    tagged: boolean;
    options: { simple?: boolean; prepare?: boolean };
    isRaw?: unknown;
    onlyDescribe?: boolean;
  }
  const refuse = (what: string) => () => {
    throw new RaceUninstrumentedIoError(link.name, `called postgres.js ${what} through the race's sql, which runs each awaited query as a step on the actor's one connection and cannot order ${what}`);
  };
  /** The same query, built on the reserved connection, with the modifiers the actor set. */
  const onReserved = async (q: QueryState): Promise<unknown> => {
    const own = (await reserved()) as unknown as ((...a: unknown[]) => QueryLike) & { unsafe(...a: unknown[]): QueryLike };
    const real = (q.tagged ? own(q.strings, ...q.args) : own.unsafe(q.strings[0], q.args, { ...q.options })) as unknown as QueryState & QueryLike;
    Object.assign(real.options, q.options);
    real.isRaw = q.isRaw;
    real.onlyDescribe = q.onlyDescribe;
    return await real;
  };
  const instrument = (q: QueryLike, sql: string, params: unknown[]): QueryLike => {
    let issued: Promise<unknown> | undefined;
    const run = () => (issued ??= step(link, tx, sql, params, () => onReserved(q as unknown as QueryState)));
    q.then = ((onFulfilled?: (v: unknown) => unknown, onRejected?: (e: unknown) => unknown) => run().then(onFulfilled, onRejected)) as never;
    q.catch = ((onRejected?: (e: unknown) => unknown) => run().catch(onRejected)) as never;
    q.finally = ((onFinally?: () => void) => run().finally(onFinally)) as never;
    q.execute = () => (void run().catch(() => undefined), q);
    for (const m of ['cursor', 'forEach']) q[m] = refuse(`query.${m}()`);
    return q;
  };
  const handle = function (strings: unknown, ...args: unknown[]) {
    const made = base(strings as TemplateStringsArray, ...args);
    if (!Array.isArray((strings as { raw?: unknown })?.raw)) return made; // sql(identifier) / sql(object): a helper
    const text = postgresJsText(strings as readonly string[], args);
    return instrument(made as QueryLike, text.sql, text.params);
  } as unknown as Record<string, unknown>;
  handle.unsafe = (text: string, params: unknown[] = [], options?: object) =>
    instrument(base.unsafe(text, params, options) as unknown as QueryLike, text, Array.isArray(params) ? params : []);
  for (const helper of ['json', 'array', 'typed', 'types', 'options', 'parameters', 'CLOSE', 'END', 'PostgresError']) {
    Object.defineProperty(handle, helper, { get: () => (base as unknown as Record<string, unknown>)[helper], enumerable: true });
  }
  for (const m of POSTGRES_JS_UNSUPPORTED) handle[m] = refuse(`sql.${m}()`);
  return {
    kind: 'postgres.js',
    handle,
    ready: async () => {
      await reserved();
    },
    async tidy() {
      if (!tx.open) return;
      tx.open = false;
      await (await reserved()).unsafe('ROLLBACK');
    },
    async close() {
      if (!reserved.started) return;
      const c = await reserved().catch(() => undefined);
      c?.release();
    },
  };
}
