/** postgres.js (`postgres(url)`, sql`...` tagged templates), with ioredis: docs/stacks.md#postgresjs. */
import { randomUUID } from 'node:crypto';
import type { Sql } from 'postgres';
import type Redis from 'ioredis';
import { readThroughWithLease } from './lease';
import type { User } from './node-postgres';

// #region docs
/** Cache-aside as it is usually written: read through the cache; update the row, then delete the key. */
export class PostgresJsUserService {
  constructor(
    protected readonly sql: Sql,
    protected readonly redis: Redis,
  ) {}

  protected async load(id: number): Promise<User | null> {
    const [user] = await this.sql<User[]>`SELECT id, name, email FROM users WHERE id = ${id}`;
    return user ?? null;
  }

  async getUser(id: number): Promise<User | null> {
    const cached = await this.redis.get(`user:${id}`);
    if (cached !== null) return JSON.parse(cached) as User | null;
    const user = await this.load(id);
    await this.redis.set(`user:${id}`, JSON.stringify(user));
    return user;
  }

  async updateUser(id: number, name: string): Promise<void> {
    await this.sql`UPDATE users SET name = ${name} WHERE id = ${id}`;
    await this.redis.del(`user:${id}`);
  }
}

/** The fix: the same writer; the reader fills only while it holds a lease (compare-and-set). */
export class PostgresJsLeasedUserService extends PostgresJsUserService {
  constructor(
    sql: Sql,
    redis: Redis,
    private readonly token: () => string = randomUUID,
  ) {
    super(sql, redis);
  }

  override getUser(id: number): Promise<User | null> {
    return readThroughWithLease(this.redis, `user:${id}`, () => this.load(id), this.token());
  }
}
// #endregion docs
