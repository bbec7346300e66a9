import { readFileSync } from 'node:fs';
import type { IBackup, IMemoryDb } from 'pg-mem';
import { SchemaError } from '../errors';
import { loadUserModule } from '../runtime/userModule';
import { createPgMemAdapter } from './pgMemPool';
import { splitSqlStatements } from './sqlStatements';
import type { Queryable, Row } from './types';

/** A client checked out of a {@link PgCompatiblePool}, as node-postgres' `PoolClient`. */
export interface PgCompatibleClient {
  query<R extends Row = any>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
  release(err?: Error | boolean): void;
}

/**
 * A node-postgres compatible Pool, as pg-mem's adapter builds it: `query`, `connect` + `release`, `end`.
 * Row types are the caller's choice, as with node-postgres. A service typed with `pg.Pool` itself needs a
 * cast (`db.pool as unknown as Pool`): pg-mem implements the behaviour, not every member of the class.
 */
export interface PgCompatiblePool {
  query<R extends Row = any>(sql: string, params?: readonly unknown[]): Promise<{ rows: R[]; rowCount: number | null }>;
  connect(): Promise<PgCompatibleClient>;
  end(): Promise<void>;
}

/** The embedded database of a test file: pg-mem with the configured schema, reset before every test. */
export interface TestDb extends Queryable {
  /** A node-postgres compatible Pool on this database, to hand to the service under test. */
  readonly pool: PgCompatiblePool;
  /** The raw pg-mem instance (for pg-mem specific features: `public.registerFunction`, `adapters`, ...). */
  readonly mem: IMemoryDb;
  /** Resolves once the schema (including async schema modules) has been applied. */
  readonly ready: Promise<void>;
  /** Puts the database back to the state right after the schema was applied. O(1). */
  reset(): Promise<void>;
}

export type SchemaModule = (db: TestDb) => void | Promise<void>;

function applySqlFile(mem: IMemoryDb, file: string): void {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new SchemaError(file, `cannot read the file (${(err as Error).message})`, undefined, undefined, err);
  }
  for (const { sql, line } of splitSqlStatements(text)) {
    try {
      mem.public.none(sql);
    } catch (err) {
      const first = ((err as Error).message ?? String(err)).split('\n')[0]!;
      throw new SchemaError(file, first, sql, line, err);
    }
  }
}

async function loadSchemaModule(file: string): Promise<SchemaModule> {
  const mod = await loadUserModule(file, 'database.schema');
  const fn = typeof mod === 'function' ? mod : (mod as { default?: unknown } | null)?.default;
  if (typeof fn !== 'function')
    throw new SchemaError(file, 'a schema module must export a function `(db) => void | Promise<void>` (default or module.exports)');
  return fn as SchemaModule;
}

/** One pg-mem instance with the schema applied; rebuilt whole when a test changed the schema. */
interface Core {
  mem: IMemoryDb;
  pool: PgCompatiblePool;
  /** Resolves once async schema modules have run and the backup is taken. */
  ready: Promise<void>;
  backup?: IBackup;
}

/**
 * Creates a pg-mem database and applies `schema` in order. `.sql` files are applied synchronously (so the
 * handle is usable at once); modules run asynchronously, and `ready` / `query` wait for them.
 *
 * `reset()` restores pg-mem's backup, in O(1). pg-mem cannot restore a backup once the schema changed (a test
 * ran CREATE/ALTER/DROP): then the whole database is built again from the schema, and `pool` and `mem` follow
 * (`pool` always forwards to the current instance; read `mem` again after a reset).
 */
export function createEmbeddedDb(schema: readonly string[]): TestDb {
  // Loaded lazily: test files that never touch the database don't pay for pg-mem.
  const { newDb } = require('pg-mem') as typeof import('pg-mem');

  const rawQuery = async <T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> => {
    const result = await core.pool.query(sql, params);
    return (result.rows ?? []) as T[];
  };

  const build = (): Core => {
    const mem = newDb();
    const { Pool } = createPgMemAdapter<PgCompatiblePool>(mem);
    const next: Core = { mem, pool: new Pool(), ready: Promise.resolve() };
    // Leading .sql files are applied now; from the first module on, the rest runs in order in `ready`.
    let syncPrefix = 0;
    while (syncPrefix < schema.length && /\.sql$/i.test(schema[syncPrefix]!)) {
      applySqlFile(mem, schema[syncPrefix]!);
      syncPrefix++;
    }
    next.ready = (async () => {
      for (const file of schema.slice(syncPrefix)) {
        if (/\.sql$/i.test(file)) applySqlFile(mem, file);
        else {
          const fn = await loadSchemaModule(file);
          try {
            // Schema modules run before `ready` resolves: hand them a handle on this very instance that
            // does not wait for it.
            await fn({
              pool: next.pool,
              mem,
              ready: Promise.resolve(),
              query: async <T extends Row = Row>(sql: string, params?: readonly unknown[]) =>
                ((await next.pool.query(sql, params)).rows ?? []) as T[],
              reset: () => db.reset(),
            });
          } catch (err) {
            if (err instanceof SchemaError) throw err;
            throw new SchemaError(file, `the schema module threw: ${(err as Error)?.message ?? String(err)}`, undefined, undefined, err);
          }
        }
      }
      next.backup = mem.backup();
    })();
    // The rejection is reported through query()/reset(); don't let it count as unhandled meanwhile.
    next.ready.catch(() => {});
    return next;
  };

  // Forwards to the current instance's pool, so a service built with `db.pool` survives a rebuild. A method
  // reads as one stable function that calls the current pool's, and what is set on the proxy (bindToActors
  // patches `query` and `connect` in place) is kept on it and read back first: a patch wraps the forwarder,
  // so it holds across rebuilds too.
  const forwarders = new Map<PropertyKey, (...args: unknown[]) => unknown>();
  const forwarder = (prop: PropertyKey) => {
    let fn = forwarders.get(prop);
    if (!fn) {
      fn = (...args: unknown[]) => (core.pool as unknown as Record<PropertyKey, (...a: unknown[]) => unknown>)[prop]!(...args);
      forwarders.set(prop, fn);
    }
    return fn;
  };
  const pool = new Proxy({} as PgCompatiblePool, {
    get(target, prop) {
      if (Object.prototype.hasOwnProperty.call(target, prop)) return (target as unknown as Record<PropertyKey, unknown>)[prop];
      const value = (core.pool as unknown as Record<PropertyKey, unknown>)[prop];
      return typeof value === 'function' ? forwarder(prop) : value;
    },
  });

  const db: TestDb = {
    pool,
    get mem() {
      return core.mem;
    },
    get ready() {
      return core.ready;
    },
    async query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
      await core.ready;
      return rawQuery<T>(sql, params);
    },
    async reset() {
      await core.ready;
      try {
        core.backup!.restore();
      } catch (err) {
        if (!/schema has been changed/i.test((err as Error)?.message ?? '')) throw err;
        const old = core;
        core = build();
        await old.pool.end().catch(() => {});
        await core.ready;
      }
    },
  };
  let core: Core = build();
  return db;
}
