/**
 * docs/races.md #4, "delayed double delete": update, delete, sleep, delete again, hoping the second delete
 * lands after any reader's stale fill. Time is not a lock: it only narrows the window.
 *   R:GET(miss) -> R:SELECT(v1) -> W:UPDATE -> W:DEL -> (sleep) -> W:DEL -> R:SET(v1)
 * Under everyInterleaving the 500 ms sleep is a timer step (virtual time): no schedule waits in real time.
 * Fix: a lease (LeaseUserCache) or versions.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type Redis from 'ioredis';
import type { Queryable } from '../../src';
import { UserCache } from './cacheAside';

export class DelayedDoubleDeleteUserCache extends UserCache {
  constructor(
    db: Queryable,
    redis: Redis,
    private readonly delayMs = 500,
  ) {
    super(db, redis);
  }

  override async updateUser(id: number, name: string): Promise<void> {
    await this.db.query('UPDATE users SET name = $1 WHERE id = $2', [name, id]);
    await this.redis.del(`user:${id}`);
    await sleep(this.delayMs);
    await this.redis.del(`user:${id}`);
  }
}
