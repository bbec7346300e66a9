/** MikroORM 6 on PostgreSQL (@mikro-orm/postgresql: Knex over node-postgres), with ioredis: docs/stacks.md#mikroorm. */
import { randomUUID } from 'node:crypto';
import { EntitySchema, type MikroORM } from '@mikro-orm/postgresql';
import type Redis from 'ioredis';
import { readThroughWithLease } from './lease';
import type { User } from './node-postgres';

// #region docs
export const UserSchema = new EntitySchema<User>({
  name: 'User',
  tableName: 'users',
  properties: {
    id: { type: 'number', primary: true, autoincrement: false },
    name: { type: 'string' },
    email: { type: 'string', nullable: true },
  },
});

/** Cache-aside as it is usually written: read through the cache; change the entity and flush, then delete the key. */
export class MikroOrmUserService {
  constructor(
    protected readonly orm: MikroORM,
    protected readonly redis: Redis,
  ) {}

  protected async load(id: number): Promise<User | null> {
    const user = await this.orm.em.fork().findOne(UserSchema, { id });
    return user ? { id: user.id, name: user.name, email: user.email ?? null } : null;
  }

  async getUser(id: number): Promise<User | null> {
    const cached = await this.redis.get(`user:${id}`);
    if (cached !== null) return JSON.parse(cached) as User | null;
    const user = await this.load(id);
    await this.redis.set(`user:${id}`, JSON.stringify(user));
    return user;
  }

  async updateUser(id: number, name: string): Promise<void> {
    const em = this.orm.em.fork();
    const user = await em.findOneOrFail(UserSchema, { id });
    user.name = name;
    await em.flush();
    await this.redis.del(`user:${id}`);
  }
}

/** The fix: the same writer; the reader fills only while it holds a lease (compare-and-set). */
export class MikroOrmLeasedUserService extends MikroOrmUserService {
  constructor(
    orm: MikroORM,
    redis: Redis,
    private readonly token: () => string = randomUUID,
  ) {
    super(orm, redis);
  }

  override getUser(id: number): Promise<User | null> {
    return readThroughWithLease(this.redis, `user:${id}`, () => this.load(id), this.token());
  }
}
// #endregion docs
