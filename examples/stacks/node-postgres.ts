/** node-postgres (pg) directly, with ioredis: docs/stacks.md#node-postgres. */
import { randomUUID } from 'node:crypto';
import type { Pool } from 'pg';
import type Redis from 'ioredis';
import { readThroughWithLease } from './lease';

export interface User {
  id: number;
  name: string;
  email: string | null;
}

// #region docs
/** Cache-aside as it is usually written: read through the cache; update the row, then delete the key. */
export class PgUserService {
  constructor(
    protected readonly pool: Pool,
    protected readonly redis: Redis,
  ) {}

  async getUser(id: number): Promise<User | null> {
    const cached = await this.redis.get(`user:${id}`);
    if (cached !== null) return JSON.parse(cached) as User | null;
    const { rows } = await this.pool.query<User>('SELECT id, name, email FROM users WHERE id = $1', [id]);
    const user = rows[0] ?? null;
    await this.redis.set(`user:${id}`, JSON.stringify(user));
    return user;
  }

  async updateUser(id: number, name: string): Promise<void> {
    await this.pool.query('UPDATE users SET name = $1 WHERE id = $2', [name, id]);
    await this.redis.del(`user:${id}`);
  }
}

/** The fix: the same writer; the reader fills only while it holds a lease (compare-and-set). */
export class PgLeasedUserService extends PgUserService {
  constructor(
    pool: Pool,
    redis: Redis,
    private readonly token: () => string = randomUUID,
  ) {
    super(pool, redis);
  }

  override getUser(id: number): Promise<User | null> {
    return readThroughWithLease(this.redis, `user:${id}`, async () => {
      const { rows } = await this.pool.query<User>('SELECT id, name, email FROM users WHERE id = $1', [id]);
      return rows[0] ?? null;
    }, this.token());
  }
}
// #endregion docs
