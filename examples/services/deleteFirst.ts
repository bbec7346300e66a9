/**
 * docs/races.md #3, "delete, then update": the writer deletes the cache key first, then updates the database.
 * Breaks when a reader refills between the two:
 *   W:DEL -> R:GET(miss) -> R:SELECT(v1) -> W:UPDATE(v2) -> R:SET(v1)
 * Fix: update first, then delete, with the lease of #1 (LeaseUserCache).
 */
import { UserCache } from './cacheAside';

export class DeleteFirstUserCache extends UserCache {
  override async updateUser(id: number, name: string): Promise<void> {
    await this.redis.del(`user:${id}`);
    await this.db.query('UPDATE users SET name = $1 WHERE id = $2', [name, id]);
  }
}
