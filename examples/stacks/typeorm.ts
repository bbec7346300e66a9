/** TypeORM on PostgreSQL (its pg driver), with ioredis: docs/stacks.md#typeorm. */
import { randomUUID } from 'node:crypto';
import { EntitySchema, type DataSource } from 'typeorm';
import type Redis from 'ioredis';
import { readThroughWithLease } from './lease';
import type { User } from './node-postgres';

// #region docs
export const UserEntity = new EntitySchema<User>({
  name: 'User',
  tableName: 'users',
  columns: {
    id: { type: Number, primary: true },
    name: { type: String },
    email: { type: String, nullable: true },
  },
});

/** Cache-aside as it is usually written: read through the cache; update the row, then delete the key. */
export class TypeormUserService {
  constructor(
    protected readonly dataSource: DataSource,
    protected readonly redis: Redis,
  ) {}

  protected load(id: number): Promise<User | null> {
    return this.dataSource.getRepository(UserEntity).findOneBy({ id });
  }

  async getUser(id: number): Promise<User | null> {
    const cached = await this.redis.get(`user:${id}`);
    if (cached !== null) return JSON.parse(cached) as User | null;
    const user = await this.load(id);
    await this.redis.set(`user:${id}`, JSON.stringify(user));
    return user;
  }

  async updateUser(id: number, name: string): Promise<void> {
    await this.dataSource.getRepository(UserEntity).update({ id }, { name });
    await this.redis.del(`user:${id}`);
  }
}

/** The fix: the same writer; the reader fills only while it holds a lease (compare-and-set). */
export class TypeormLeasedUserService extends TypeormUserService {
  constructor(
    dataSource: DataSource,
    redis: Redis,
    private readonly token: () => string = randomUUID,
  ) {
    super(dataSource, redis);
  }

  override getUser(id: number): Promise<User | null> {
    return readThroughWithLease(this.redis, `user:${id}`, () => this.load(id), this.token());
  }
}
// #endregion docs
