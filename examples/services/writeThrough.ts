/**
 * docs/races.md #5 and #6: write-through without versions, and fills with a plain SET.
 * - #5, two writers set: W1:UPDATE(v1) -> W2:UPDATE(v2) -> W2:SET(v2) -> W1:SET(v1)
 * - #6, a fill overwrites the write-through: R:GET(miss) -> R:SELECT(v1) -> W:UPDATE(v2) -> W:SET(v2) -> R:SET(v1)
 * Fix: versioned set-if-newer (VersionedUserCache).
 */
import { UserCache, type User } from './cacheAside';

export class WriteThroughUserCache extends UserCache {
  override async updateUser(id: number, name: string): Promise<void> {
    const [row] = await this.db.query<User & Record<string, unknown>>('UPDATE users SET name = $1 WHERE id = $2 RETURNING id, name, email', [name, id]);
    if (row) await this.redis.set(`user:${id}`, JSON.stringify(row));
  }
}
