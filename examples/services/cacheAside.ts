/**
 * docs/races.md #1, "stale set after delete": the classic cache-aside service.
 * Reads: GET; on a miss SELECT and SET. Writes: UPDATE, then DEL.
 * Breaks when a reader that missed fills the old row after the writer's delete:
 *   R:GET(miss) -> R:SELECT(v1) -> W:UPDATE(v2) -> W:DEL -> R:SET(v1)
 */
import type { Queryable } from '../../src';
import type Redis from 'ioredis';

export interface User {
  id: number;
  name: string;
  email: string | null;
}

export class UserCache {
  constructor(
    protected readonly db: Queryable,
    protected readonly redis: Redis,
  ) {}

  async getUser(id: number): Promise<User | null> {
    const cached = await this.redis.get(`user:${id}`);
    if (cached !== null) return JSON.parse(cached) as User;
    const [row] = await this.db.query<User & Record<string, unknown>>('SELECT id, name, email FROM users WHERE id = $1', [id]);
    if (!row) return null;
    await this.redis.set(`user:${id}`, JSON.stringify(row));
    return row;
  }

  async updateUser(id: number, name: string): Promise<void> {
    await this.db.query('UPDATE users SET name = $1 WHERE id = $2', [name, id]);
    await this.redis.del(`user:${id}`);
  }
}
