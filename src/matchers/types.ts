/**
 * The library's matchers, runner-neutral: augmentation files for Jest's global `expect`, `@jest/globals`
 * and Vitest extend their `Matchers<R>` with this interface. Every matcher here is async: `await` it.
 */
import type { KeyspaceSnapshotOptions } from './toMatchKeyspaceSnapshot';
import type { CaptureKeyspaceOptions } from '../keyspace/capture';
import type { ConsistencyOptions } from '../consistency/check';
import type { AnyCacheContract } from '../consistency/contract';
import type { QueryFunction } from '../db/toQueryable';
import type { Queryable } from '../db/types';

/**
 * A database handle the matchers accept: `testDb()`, a pg-mem database, a node-postgres Pool or Client,
 * a mysql2 pool or connection, a Queryable, or a `(sql, params) => rows` function. Checked at run time:
 * anything else is a matcher error naming what is accepted.
 */
export type DatabaseArgument = Queryable | QueryFunction | object;

export interface CacheMatchers<R> {
  /**
   * Captures the received Redis client's keyspace (SCAN, every type, TTLs, values) and compares it with the
   * snapshot in `__snapshots__`, like `toMatchSnapshot`. Takes every `captureKeyspace` option
   * (`match`, `exclude`, `redact`, `ttl`, `decode`, `streamIds`) and a `hint`, or a hint string alone.
   *
   * Received must be an ioredis client or Cluster, or a connected node-redis v5 or v6 client.
   *
   * @example
   * await expect(redis).toMatchKeyspaceSnapshot();
   * await expect(redis).toMatchKeyspaceSnapshot({ match: 'user:*', redact: ['session:*', /token/] });
   * await expect(redis).toMatchKeyspaceSnapshot('after checkout');
   */
  toMatchKeyspaceSnapshot(optionsOrHint?: KeyspaceSnapshotOptions | string, hint?: string): Promise<R>;

  /**
   * Like {@link CacheMatchers.toMatchKeyspaceSnapshot}, with the snapshot written into the test file as the
   * last argument on the first run.
   *
   * @example
   * await expect(redis).toMatchInlineKeyspaceSnapshot();
   * await expect(redis).toMatchInlineKeyspaceSnapshot({ match: 'user:*' });
   */
  toMatchInlineKeyspaceSnapshot(options?: CaptureKeyspaceOptions, inlineSnapshot?: string): Promise<R>;
  toMatchInlineKeyspaceSnapshot(inlineSnapshot?: string): Promise<R>;

  /**
   * Every cached key that a contract covers holds exactly what a fresh read-through from the database
   * would store now. With no contracts passed, the registered ones apply, else the default convention
   * (`<table>:<id>` holds the row as JSON). Fails with one block per inconsistent key: key, kind, type,
   * TTL and a diff of the decoded cached value against the expected one.
   *
   * @param db `testDb()`, pg-mem, a node-postgres Pool/Client, a mysql2 pool/connection, a Queryable or `(sql, params) => rows`.
   * @param contractsOrOptions the contracts to check with (instead of the registered ones), or the options.
   * @param options `strict` (report keys no contract covers), `match` (a key glob), `maxReported`.
   *
   * @example
   * const userById = defineCache({
   *   key: 'user:{id}',
   *   load: (db, { id }) => db.query('SELECT id, name, email FROM users WHERE id = $1', [id]),
   * });
   * await expect(testRedis()).toBeConsistentWith(testDb(), [userById]);
   * await expect(testRedis()).toBeConsistentWith(testDb(), { strict: true });
   * await expect(testRedis()).not.toBeConsistentWith(testDb());
   */
  toBeConsistentWith(
    db: DatabaseArgument,
    contractsOrOptions?: readonly AnyCacheContract[] | ConsistencyOptions,
    options?: Omit<ConsistencyOptions, 'contracts'>,
  ): Promise<R>;
}
