/** Kysely with its PostgresDialect (node-postgres), with ioredis: docs/stacks.md#kysely. */
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type Redis from 'ioredis';
import { readThroughWithLease } from './lease';
import type { User } from './node-postgres';

// #region docs
export interface Database {
  users: User;
}

/** Cache-aside as it is usually written: read through the cache; update the row, then delete the key. */
export class KyselyUserService {
  constructor(
    protected readonly db: Kysely<Database>,
    protected readonly redis: Redis,
  ) {}

  protected async load(id: number): Promise<User | null> {
    return (await this.db.selectFrom('users').select(['id', 'name', 'email']).where('id', '=', id).executeTakeFirst()) ?? null;
  }

  async getUser(id: number): Promise<User | null> {
    const cached = await this.redis.get(`user:${id}`);
    if (cached !== null) return JSON.parse(cached) as User | null;
    const user = await this.load(id);
    await this.redis.set(`user:${id}`, JSON.stringify(user));
    return user;
  }

  async updateUser(id: number, name: string): Promise<void> {
    await this.db.updateTable('users').set({ name }).where('id', '=', id).execute();
    await this.redis.del(`user:${id}`);
  }
}

/** The fix: the same writer; the reader fills only while it holds a lease (compare-and-set). */
export class KyselyLeasedUserService extends KyselyUserService {
  constructor(
    db: Kysely<Database>,
    redis: Redis,
    private readonly token: () => string = randomUUID,
  ) {
    super(db, redis);
  }

  override getUser(id: number): Promise<User | null> {
    return readThroughWithLease(this.redis, `user:${id}`, () => this.load(id), this.token());
  }
}
// #endregion docs
