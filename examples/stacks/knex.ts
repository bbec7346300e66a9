/** Knex 3 (pg or mysql2), with ioredis: docs/stacks.md#knex. */
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type Redis from 'ioredis';
import { readThroughWithLease } from './lease';
import type { User } from './node-postgres';

// #region docs
/** Cache-aside as it is usually written: read through the cache; update the row, then delete the key. */
export class KnexUserService {
  constructor(
    protected readonly knex: Knex,
    protected readonly redis: Redis,
  ) {}

  protected async load(id: number): Promise<User | null> {
    return (await this.knex<User>('users').select('id', 'name', 'email').where({ id }).first()) ?? null;
  }

  async getUser(id: number): Promise<User | null> {
    const cached = await this.redis.get(`user:${id}`);
    if (cached !== null) return JSON.parse(cached) as User | null;
    const user = await this.load(id);
    await this.redis.set(`user:${id}`, JSON.stringify(user));
    return user;
  }

  async updateUser(id: number, name: string): Promise<void> {
    await this.knex('users').where({ id }).update({ name });
    await this.redis.del(`user:${id}`);
  }
}

/** The fix: the same writer; the reader fills only while it holds a lease (compare-and-set). */
export class KnexLeasedUserService extends KnexUserService {
  constructor(
    knex: Knex,
    redis: Redis,
    private readonly token: () => string = randomUUID,
  ) {
    super(knex, redis);
  }

  override getUser(id: number): Promise<User | null> {
    return readThroughWithLease(this.redis, `user:${id}`, () => this.load(id), this.token());
  }
}
// #endregion docs
