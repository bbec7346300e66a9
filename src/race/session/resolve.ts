/**
 * The clients a race runs on: the ones passed, else the preset's testRedis() and testDb() (for a real
 * database, testDb().pool, and its reset). One resolution for race() and everyInterleaving()/replay().
 */
import { DatabaseKindMismatchError, InvalidRaceScenarioError } from '../../errors';
import { readState } from '../../preset/state';
import { testDb, testRedis } from '../../runtime/testContext';
import { dbHandleKind } from '../instrument/dbSteps';
import { redisClientKind } from '../instrument/redisSteps';

export interface RaceClients {
  readonly redis: object;
  /** The database handle, or undefined when there is none (no preset and none passed). */
  readonly db: unknown;
  /** The preset's real database (database.kind): its reset to right after the schema. */
  readonly presetReset?: () => Promise<void>;
}

/** Resolves `redis` and `db`; refuses (INVALID_RACE_SCENARIO naming the option) what the race cannot drive. */
export function resolveRaceClients(options: { readonly redis?: unknown; readonly db?: unknown }): RaceClients {
  const preset = readState() !== undefined;
  const redis = options.redis ?? (preset ? testRedis() : undefined);
  if (!redis || !redisClientKind(redis)) {
    throw new InvalidRaceScenarioError('redis', redis ? 'an ioredis client or Cluster, or a node-redis client (connected)' : 'no Redis client: pass redis (the preset is not active, so there is no testRedis())');
  }
  let db = options.db;
  let presetReset: (() => Promise<void>) | undefined;
  if (db === undefined && preset) {
    const t = testDb();
    const real = (t as { kind?: unknown }).kind;
    if (real === 'postgres' || real === 'mysql') {
      // The preset's real database (database.kind): its pool (testDb().mem exists only for pg-mem).
      db = t.pool;
      presetReset = () => t.reset();
    } else db = t;
  }
  // The preset's real-database testDb() itself: only pg-mem can be snapshotted; name the fix (pool + reset).
  const kind = (db as { kind?: unknown } | null | undefined)?.kind;
  if (preset && (kind === 'postgres' || kind === 'mysql') && db === testDb()) {
    throw new DatabaseKindMismatchError('A race on testDb() itself (a snapshot of the database)', kind);
  }
  if (db !== undefined && !dbHandleKind(db)) {
    throw new InvalidRaceScenarioError('db', 'testDb(), a node-postgres or pg-mem Pool or Client, a mysql2 pool, a Knex instance on pg or mysql2, a Sequelize instance on mysql, a postgres.js sql, a { query(sql, params) } object or a function (sql, params) => rows');
  }
  return { redis: redis as object, db, ...(presetReset && { presetReset }) };
}
