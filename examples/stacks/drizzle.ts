/** Drizzle ORM on node-postgres, with ioredis: docs/stacks.md#drizzle. */
import { randomUUID } from 'node:crypto';
import { eq } from 'drizzle-orm';
import { integer, pgTable, text } from 'drizzle-orm/pg-core';
import type { NodePgDatabase } from 'drizzle-orm/node-postgres';
import type Redis from 'ioredis';
import { readThroughWithLease } from './lease';

// #region docs
export const users = pgTable('users', {
  id: integer('id').primaryKey(),
  name: text('name').notNull(),
  email: text('email'),
});
export type User = typeof users.$inferSelect;

/** Cache-aside as it is usually written: read through the cache; update the row, then delete the key. */
export class DrizzleUserService {
  constructor(
    protected readonly db: NodePgDatabase,
    protected readonly redis: Redis,
  ) {}

  protected async load(id: number): Promise<User | null> {
    const [user] = await this.db.select().from(users).where(eq(users.id, id));
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
    await this.db.update(users).set({ name }).where(eq(users.id, id));
    await this.redis.del(`user:${id}`);
  }
}

/** The fix: the same writer; the reader fills only while it holds a lease (compare-and-set). */
export class DrizzleLeasedUserService extends DrizzleUserService {
  constructor(
    db: NodePgDatabase,
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
