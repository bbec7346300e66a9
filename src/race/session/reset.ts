/**
 * Every schedule starts from the same state: what a race may empty on the Redis server and how, the Redis
 * keyspace as it was before the race (DUMP/RESTORE), and how the database goes back to its start.
 */
import type { TestDb } from '../../db/embedded';
import { InvalidRaceScenarioError } from '../../errors';
import { readState } from '../../preset/state';
import type { RedisAdapter, RedisReply } from '../../redis/adapter';
import { redisKeyPrefix } from '../../runtime/testContext';
import { DELETE_PREFIX_SCRIPT, globEscape } from '../../server/externalRedis';
import { dbHandleKind } from '../instrument/dbSteps';

/**
 * What this race may empty on the server, and how: the whole server the preset started (FLUSHALL), the
 * worker's own database index on an external server (FLUSHDB, only with `allowFlush`), or the worker's key
 * prefix there (nothing else is ever read back or deleted).
 */
export interface RedisScope {
  empty: readonly [string, ...Array<string | Buffer | number>];
  match?: string;
}

export function redisScope(): RedisScope {
  const external = readState()?.external;
  if (external?.isolation === 'prefix') {
    const prefix = `${globEscape(redisKeyPrefix())}*`;
    return { empty: ['EVAL', DELETE_PREFIX_SCRIPT, 0, prefix], match: prefix };
  }
  if (external?.isolation === 'database') return { empty: ['FLUSHDB'] };
  return { empty: ['FLUSHALL'] };
}

/** The Redis state before the race, and how to get back to it. */
export class RedisStart {
  #entries: Array<{ key: Buffer; ttl: number; dump: Buffer }> = [];
  /** Replicas of each master of a Cluster (asked once per race: the topology stays put while it runs). */
  #replicas: number[] = [];
  constructor(
    private readonly adapter: RedisAdapter,
    private readonly scope: RedisScope,
  ) {}

  static async capture(adapter: RedisAdapter, scope: RedisScope): Promise<RedisStart> {
    const start = new RedisStart(adapter, scope);
    if (adapter.kind === 'ioredis-cluster') start.#replicas = await Promise.all(adapter.shards().map(replicaCount));
    const keys: Buffer[] = [];
    for await (const page of adapter.scan(scope.match === undefined ? {} : { match: scope.match })) keys.push(...page);
    if (keys.length > 0) {
      const replies = await adapter.batch(keys.flatMap((k) => [['PTTL', k] as const, ['DUMP', k] as const]));
      keys.forEach((key, i) => {
        const ttl = replies[2 * i];
        const dump = replies[2 * i + 1];
        if (Buffer.isBuffer(dump)) start.#entries.push({ key, ttl: typeof ttl === 'number' && ttl > 0 ? ttl : 0, dump });
      });
    }
    return start;
  }

  async restore(): Promise<void> {
    // Every master of a Cluster holds its own part of the keyspace (its replicas follow it).
    const shards = this.adapter.shards();
    await Promise.all(shards.map((shard) => shard.send(...this.scope.empty)));
    if (this.#entries.length > 0) {
      const replies = await this.adapter.batch(this.#entries.map((e) => ['RESTORE', e.key, e.ttl, e.dump, 'REPLACE'] as const));
      const failed = replies.find((r): r is Error => r instanceof Error);
      if (failed) throw failed;
    }
    // Replicas (a cluster with replicasPerMaster): an actor reading from one must see this start, not the
    // last schedule's end. WAIT on a master's connection covers what was sent over it.
    await Promise.all(
      shards.map(async (shard, i) => {
        const replicas = this.#replicas[i] ?? 0;
        if (replicas > 0) await shard.send('WAIT', replicas, 1000);
      }),
    );
  }
}

/** How many replicas follow `shard` (a master). */
async function replicaCount(shard: RedisAdapter): Promise<number> {
  const info = (await shard.send('INFO', 'replication')) as RedisReply;
  return Number(/connected_slaves:(\d+)/.exec(Buffer.isBuffer(info) ? info.toString('utf8') : '')?.[1] ?? 0);
}

/**
 * How the database goes back to its starting state before each schedule: the scenario's `resetDb`, else the
 * preset's real database's own reset, else an O(1) pg-mem snapshot of testDb() taken now. A handle that can
 * be neither is refused (INVALID_RACE_SCENARIO naming resetDb); a plain query function or object is left as is.
 */
export async function databaseReset(db: unknown, resetDb: ((db: unknown) => unknown) | undefined, presetReset: (() => Promise<void>) | undefined): Promise<() => Promise<void>> {
  if (resetDb) {
    return async () => {
      await resetDb(db);
    };
  }
  if (presetReset) return presetReset;
  const kind = db === undefined ? undefined : dbHandleKind(db);
  if (kind === 'testDb') {
    const t = db as TestDb;
    await t.ready;
    const backup = t.mem.backup();
    return async () => backup.restore();
  }
  if (kind !== undefined && kind !== 'function' && kind !== 'queryable') {
    throw new InvalidRaceScenarioError('resetDb', 'this database cannot be snapshotted by the race: pass resetDb: (db) => ... that puts it back in its starting state (e.g. TRUNCATE the tables your setup fills)');
  }
  return async () => {};
}
