/** mysql2 directly (promise API), on MySQL or MariaDB, with ioredis: docs/stacks.md#mysql2. */
import { randomUUID } from 'node:crypto';
import type { Pool, RowDataPacket } from 'mysql2/promise';
import type Redis from 'ioredis';
import { readThroughWithLease } from './lease';
import type { User } from './node-postgres';

// #region docs
/** Cache-aside as it is usually written: read through the cache; update the row, then delete the key. */
export class MysqlUserService {
  constructor(
    protected readonly pool: Pool,
    protected readonly redis: Redis,
  ) {}

  protected async load(id: number): Promise<User | null> {
    const [rows] = await this.pool.execute<RowDataPacket[]>('SELECT id, name, email FROM users WHERE id = ?', [id]);
    return (rows[0] as User | undefined) ?? null;
  }

  async getUser(id: number): Promise<User | null> {
    const cached = await this.redis.get(`user:${id}`);
    if (cached !== null) return JSON.parse(cached) as User | null;
    const user = await this.load(id);
    await this.redis.set(`user:${id}`, JSON.stringify(user));
    return user;
  }

  async updateUser(id: number, name: string): Promise<void> {
    await this.pool.execute('UPDATE users SET name = ? WHERE id = ?', [name, id]);
    await this.redis.del(`user:${id}`);
  }
}

/** The fix: the same writer; the reader fills only while it holds a lease (compare-and-set). */
export class MysqlLeasedUserService extends MysqlUserService {
  constructor(
    pool: Pool,
    redis: Redis,
    private readonly token: () => string = randomUUID,
  ) {
    super(pool, redis);
  }

  override getUser(id: number): Promise<User | null> {
    return readThroughWithLease(this.redis, `user:${id}`, () => this.load(id), this.token());
  }
}
// #endregion docs
