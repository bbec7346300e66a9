/**
 * docs/races.md #8, "negative cache": caching "not found".
 *   R:GET(miss) -> R:SELECT(none) -> W:INSERT -> W:DEL -> R:SET(null marker)
 * The marker says the user does not exist while the row does. Fix: the same lease as #1
 * (LeaseNegativeCache): the writer's delete kills the reader's lease, so its marker is refused.
 */
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { Queryable } from '../../src';
import type { User } from './cacheAside';
import { readThroughWithLease } from './leaseCache';

/** What the cache holds for a user that does not exist. */
export const NOT_FOUND = 'null';

export class NegativeUserCache {
  constructor(
    protected readonly db: Queryable,
    protected readonly redis: Redis,
  ) {}

  async getUser(id: number): Promise<User | null> {
    const cached = await this.redis.get(`user:${id}`);
    if (cached !== null) return JSON.parse(cached) as User | null;
    const [row] = await this.db.query<User & Record<string, unknown>>('SELECT id, name, email FROM users WHERE id = $1', [id]);
    await this.redis.set(`user:${id}`, row ? JSON.stringify(row) : NOT_FOUND);
    return row ?? null;
  }

  async createUser(id: number, name: string): Promise<void> {
    await this.db.query('INSERT INTO users (id, name) VALUES ($1, $2)', [id, name]);
    await this.redis.del(`user:${id}`);
  }
}

export class LeaseNegativeCache extends NegativeUserCache {
  constructor(
    db: Queryable,
    redis: Redis,
    private readonly token: () => string = randomUUID,
  ) {
    super(db, redis);
  }

  override async getUser(id: number): Promise<User | null> {
    const user = await readThroughWithLease<User | null>(
      this.redis,
      `user:${id}`,
      async () => {
        const [row] = await this.db.query<User & Record<string, unknown>>('SELECT id, name, email FROM users WHERE id = $1', [id]);
        return row ?? null; // null is cached too (as the marker), but only under the lease
      },
      this.token(),
    );
    return user ?? null;
  }
}
