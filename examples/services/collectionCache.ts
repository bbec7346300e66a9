/**
 * docs/races.md #10, "collection cache": a cached list of ids.
 *   R:GET(ids, miss) -> R:SELECT([1,2]) -> W:INSERT(3) -> W:DEL(ids) -> R:SET([1,2])
 * or the insert path forgets the list key altogether. Fix: invalidate every derived key, with a lease on the
 * fill (LeaseActiveUsers).
 */
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import type { Queryable } from '../../src';
import { readThroughWithLease } from './leaseCache';

export const ACTIVE_IDS = 'users:active';

export class ActiveUsers {
  constructor(
    protected readonly db: Queryable,
    protected readonly redis: Redis,
    /** The second bug of docs/races.md #10: the insert path does not know about the list key. */
    private readonly forgetsListKey = false,
  ) {}

  protected async loadIds(): Promise<number[]> {
    const rows = await this.db.query<{ id: number }>('SELECT id FROM users WHERE active ORDER BY id');
    return rows.map((r) => r.id);
  }

  async activeIds(): Promise<number[]> {
    const cached = await this.redis.get(ACTIVE_IDS);
    if (cached !== null) return JSON.parse(cached) as number[];
    const ids = await this.loadIds();
    await this.redis.set(ACTIVE_IDS, JSON.stringify(ids));
    return ids;
  }

  async addUser(id: number, name: string): Promise<void> {
    await this.db.query('INSERT INTO users (id, name) VALUES ($1, $2)', [id, name]);
    if (!this.forgetsListKey) await this.redis.del(ACTIVE_IDS);
  }
}

export class LeaseActiveUsers extends ActiveUsers {
  constructor(
    db: Queryable,
    redis: Redis,
    private readonly token: () => string = randomUUID,
  ) {
    super(db, redis);
  }

  override async activeIds(): Promise<number[]> {
    return (await readThroughWithLease(this.redis, ACTIVE_IDS, () => this.loadIds(), this.token())) ?? [];
  }
}
