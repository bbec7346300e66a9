/**
 * The fix for docs/races.md #1, #3, #4, #8 and #10: a lease ("Scaling Memcache at Facebook", §3.2.1).
 *
 * A reader that misses first takes a lease: `SET key lease:<token> NX PX 10000`. Only the holder may fill,
 * and it fills with a compare-and-set script that writes only while its token is still there. A writer
 * updates the database, then deletes the key: the delete kills any lease, so a fill computed from the old row
 * is refused. A reader that finds someone else's lease reads the database and does not fill.
 */
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { Queryable } from '../../src';
import type { User } from './cacheAside';

/** Writes ARGV[2] only if the key still holds our lease ARGV[1]. */
export const FILL_IF_LEASED = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 else return 0 end`;

export const LEASE_PREFIX = 'lease:';

export interface LeaseOptions {
  /** Makes a lease token. Default: a random UUID. Tests pass a fixed one so reports are byte-identical. */
  token?: () => string;
}

/**
 * Reads `key` through the cache with a lease: returns the cached value, or loads it (`load` returns the
 * value to cache, or undefined for "nothing to cache") and fills only while holding the lease.
 */
export async function readThroughWithLease<T>(redis: Redis, key: string, load: () => Promise<T | undefined>, token: string): Promise<T | undefined> {
  const cached = await redis.get(key);
  if (cached !== null && !cached.startsWith(LEASE_PREFIX)) return JSON.parse(cached) as T;
  const lease = `${LEASE_PREFIX}${token}`;
  const mine = cached === null && (await redis.set(key, lease, 'PX', 10_000, 'NX')) === 'OK';
  const value = await load();
  if (mine) {
    if (value === undefined) await redis.eval(`if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) else return 0 end`, 1, key, lease);
    else await redis.eval(FILL_IF_LEASED, 1, key, lease, JSON.stringify(value));
  }
  return value;
}

export class LeaseUserCache {
  readonly #token: () => string;
  constructor(
    private readonly db: Queryable,
    private readonly redis: Redis,
    options: LeaseOptions = {},
  ) {
    this.#token = options.token ?? randomUUID;
  }

  async getUser(id: number): Promise<User | null> {
    const user = await readThroughWithLease<User>(
      this.redis,
      `user:${id}`,
      async () => {
        const [row] = await this.db.query<User & Record<string, unknown>>('SELECT id, name, email FROM users WHERE id = $1', [id]);
        return row;
      },
      this.#token(),
    );
    return user ?? null;
  }

  /** Update first, then delete: the delete also kills a reader's lease. */
  async updateUser(id: number, name: string): Promise<void> {
    await this.db.query('UPDATE users SET name = $1 WHERE id = $2', [name, id]);
    await this.redis.del(`user:${id}`);
  }
}
