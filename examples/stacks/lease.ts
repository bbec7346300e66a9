/**
 * The lease + compare-and-set fill every stack's fixed variant uses (docs/races.md #1's fix, "Scaling Memcache at
 * Facebook" §3.2.1), on an ioredis client. Shown in docs/stacks.md's introduction.
 */
import type Redis from 'ioredis';

// #region docs
const LEASE = 'lease:';
/** Writes ARGV[2] only while the key still holds our lease ARGV[1]: a writer's DEL in between kills the fill. */
const FILL_IF_LEASED = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2]) else return false end`;

/**
 * Reads `key` through the cache: a hit is returned; on a miss the reader takes a lease (SET NX PX), loads the row
 * and fills only if its lease is still there. A reader that finds another's lease loads and does not fill.
 */
export async function readThroughWithLease<T>(redis: Redis, key: string, load: () => Promise<T>, token: string): Promise<T> {
  const cached = await redis.get(key);
  if (cached !== null && !cached.startsWith(LEASE)) return JSON.parse(cached) as T;
  const lease = `${LEASE}${token}`;
  const mine = cached === null && (await redis.set(key, lease, 'PX', 10_000, 'NX')) === 'OK';
  const value = await load();
  if (mine) await redis.eval(FILL_IF_LEASED, 1, key, lease, JSON.stringify(value ?? null));
  return value;
}
// #endregion docs
