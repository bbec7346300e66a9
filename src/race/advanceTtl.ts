/**
 * `advanceTtl(redis, ms)`: moves time forward for every key's TTL on the real server, without sleeping.
 * Each key with a TTL gets `ms` less of it; a key whose TTL runs out is deleted, as if it had expired.
 */
import { InvalidRaceScenarioError, NotARedisClientError } from '../errors';
import type { RedisAdapter, RedisArg } from '../redis/adapter';
import { toRedisAdapter } from '../redis/toRedisAdapter';

/** Per key: PTTL, then PEXPIRE with what is left, or DEL when nothing is. Returns [with TTL, expired]. */
const SCRIPT = `
local ms = tonumber(ARGV[1])
local moved, expired = 0, 0
for _, key in ipairs(KEYS) do
  local ttl = redis.call('PTTL', key)
  if ttl >= 0 then
    if ttl <= ms then
      redis.call('DEL', key)
      expired = expired + 1
    else
      redis.call('PEXPIRE', key, ttl - ms)
      moved = moved + 1
    end
  end
end
return {moved, expired}
`;

export interface AdvanceTtlResult {
  /** Keys whose TTL was shortened by `ms`. */
  readonly moved: number;
  /** Keys whose TTL ran out: deleted. */
  readonly expired: number;
}

function counts(reply: unknown): [number, number] {
  if (Array.isArray(reply) && typeof reply[0] === 'number' && typeof reply[1] === 'number') return [reply[0], reply[1]];
  if (reply instanceof Error) throw reply;
  return [0, 0];
}

async function advanceShard(adapter: RedisAdapter, ms: number): Promise<[number, number]> {
  let moved = 0;
  let expired = 0;
  for await (const keys of adapter.scan({ count: 1000 })) {
    if (adapter.multiKey) {
      const [m, e] = counts(await adapter.send('EVAL', SCRIPT, keys.length, ...keys, ms));
      moved += m;
      expired += e;
    } else {
      // A cluster node: one script per key (its keys may live in different hash slots).
      const replies = await adapter.batch(keys.map((k) => ['EVAL', SCRIPT, 1, k, ms] as [string, ...RedisArg[]]));
      for (const r of replies) {
        const [m, e] = counts(r);
        moved += m;
        expired += e;
      }
    }
  }
  return [moved, expired];
}

/**
 * Moves every TTL on the server forward by `ms` milliseconds, without waiting: keys whose TTL runs out are
 * deleted, the others keep `ms` less of it. Works with ioredis and node-redis clients (and a Cluster: every
 * master). Keys without a TTL are untouched.
 *
 * @example
 * await redis.set('user:1', json, 'EX', 60);
 * await advanceTtl(redis, 61_000);
 * expect(await redis.exists('user:1')).toBe(0);
 */
export async function advanceTtl(redis: unknown, ms: number): Promise<AdvanceTtlResult> {
  const adapter = toRedisAdapter(redis);
  if (!adapter) throw new NotARedisClientError('advanceTtl(redis, ms)', redis === null ? 'null' : typeof redis);
  if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
    throw new InvalidRaceScenarioError('advanceTtl(redis, ms)', `ms must be a finite number >= 0, received ${String(ms)}`);
  }
  await adapter.ready();
  let moved = 0;
  let expired = 0;
  for (const shard of adapter.shards()) {
    const [m, e] = await advanceShard(shard, Math.floor(ms));
    moved += m;
    expired += e;
  }
  return { moved, expired };
}
