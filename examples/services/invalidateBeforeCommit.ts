/**
 * docs/races.md #2, "invalidate before commit": an after-save hook deletes the cache key inside the
 * transaction, before COMMIT. A reader that misses in between reads the still-committed old row and fills it:
 *   W:BEGIN -> W:UPDATE -> W:DEL -> R:GET(miss) -> R:SELECT(v1, committed) -> R:SET(v1) -> W:COMMIT
 * This needs a database with transaction isolation: against pg-mem (no isolation) the reader sees the
 * uncommitted row and the bug hides. The tests run it against the real PostgreSQL.
 * Fix: invalidate after COMMIT (CommitThenInvalidate), with the lease of #1 on the reader's fill.
 */
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { User } from './cacheAside';
import { readThroughWithLease } from './leaseCache';

/** What the service needs of a node-postgres Pool (or the actor's handle shaped like one). */
export interface PgPoolLike {
  query(sql: string, params?: unknown[]): Promise<{ rows: Array<Record<string, unknown>> }>;
  connect(): Promise<{ query(sql: string, params?: unknown[]): Promise<unknown>; release(): void }>;
}

export class HookInvalidatingUserCache {
  constructor(
    protected readonly pool: PgPoolLike,
    protected readonly redis: Redis,
    protected readonly table = 'users',
  ) {}

  async getUser(id: number): Promise<User | null> {
    const cached = await this.redis.get(`user:${id}`);
    if (cached !== null) return JSON.parse(cached) as User;
    const { rows } = await this.pool.query(`SELECT id, name, email FROM ${this.table} WHERE id = $1`, [id]);
    const row = rows[0] as unknown as User | undefined;
    if (!row) return null;
    await this.redis.set(`user:${id}`, JSON.stringify(row));
    return row;
  }

  async updateUser(id: number, name: string): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`UPDATE ${this.table} SET name = $1 WHERE id = $2`, [name, id]);
      await this.redis.del(`user:${id}`); // the ORM's after-save hook: inside the transaction
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  }
}

export class CommitThenInvalidate extends HookInvalidatingUserCache {
  constructor(
    pool: PgPoolLike,
    redis: Redis,
    table = 'users',
    private readonly token: () => string = randomUUID,
  ) {
    super(pool, redis, table);
  }

  override async getUser(id: number): Promise<User | null> {
    const user = await readThroughWithLease<User>(
      this.redis,
      `user:${id}`,
      async () => (await this.pool.query(`SELECT id, name, email FROM ${this.table} WHERE id = $1`, [id])).rows[0] as unknown as User | undefined,
      this.token(),
    );
    return user ?? null;
  }

  override async updateUser(id: number, name: string): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`UPDATE ${this.table} SET name = $1 WHERE id = $2`, [name, id]);
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
    await this.redis.del(`user:${id}`); // after the commit: readers can no longer see the old row
  }
}
