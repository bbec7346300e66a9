import { readFileSync } from 'node:fs';
import type { IBackup, IMemoryDb } from 'pg-mem';
import { SchemaError } from '../errors';
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

function loadSchemaModule(file: string): SchemaModule {
  let mod: unknown;
  try {
    mod = require(file);
  } catch (err) {
    throw new SchemaError(file, `cannot load the module (${(err as Error).message})`, undefined, undefined, err);
  }
  const fn = typeof mod === 'function' ? mod : (mod as { default?: unknown } | null)?.default;
  if (typeof fn !== 'function')
    throw new SchemaError(file, 'a schema module must export a function `(db) => void | Promise<void>` (default or module.exports)');
  return fn as SchemaModule;
}

/**
 * Creates a pg-mem database and applies `schema` in order. `.sql` files are applied synchronously (so the
 * handle is usable at once); modules run asynchronously, and `ready` / `query` wait for them.
 */
export function createEmbeddedDb(schema: readonly string[]): TestDb {
  // Loaded lazily: test files that never touch the database don't pay for pg-mem.
  const { newDb } = require('pg-mem') as typeof import('pg-mem');
  const mem = newDb();
  const { Pool } = mem.adapters.createPg() as { Pool: new () => PgCompatiblePool };
  const pool = new Pool();
  let backup: IBackup | undefined;

  // Leading .sql files are applied now; from the first module on, the rest runs in order in `ready`.
  let syncPrefix = 0;
  while (syncPrefix < schema.length && /\.sql$/i.test(schema[syncPrefix]!)) {
    applySqlFile(mem, schema[syncPrefix]!);
    syncPrefix++;
  }

  const rawQuery = async <T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> => {
    const result = await pool.query(sql, params);
    return (result.rows ?? []) as T[];
  };
  const db: TestDb = {
    pool,
    mem,
    ready: undefined as unknown as Promise<void>,
    async query<T extends Row = Row>(sql: string, params?: readonly unknown[]): Promise<T[]> {
      await db.ready;
      return rawQuery<T>(sql, params);
    },
    async reset() {
      await db.ready;
      backup!.restore();
    },
  };
  (db as { ready: Promise<void> }).ready = (async () => {
    for (const file of schema.slice(syncPrefix)) {
      if (/\.sql$/i.test(file)) applySqlFile(mem, file);
      else {
        const fn = loadSchemaModule(file);
        try {
          // Schema modules run before `ready` resolves: hand them a handle that does not wait for it.
          await fn({ ...db, query: rawQuery, ready: Promise.resolve() });
        } catch (err) {
          if (err instanceof SchemaError) throw err;
          throw new SchemaError(file, `the schema module threw: ${(err as Error)?.message ?? String(err)}`, undefined, undefined, err);
        }
      }
    }
    backup = mem.backup();
  })();
  // The rejection is reported through query()/reset(); don't let it count as unhandled meanwhile.
  db.ready.catch(() => {});
  return db;
}
