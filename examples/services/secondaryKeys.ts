/**
 * docs/races.md #11, "one row, several keys": the user is cached by id and by email.
 *   W:UPDATE(email a -> b) -> W:DEL(user:id:1) only -> R:GET(user:email:a) hits the stale row
 * Fix: delete the id key, the old and the new email keys, together (AllKeysUserCache).
 */
import type Redis from 'ioredis';
import type { Queryable } from '../../src';
import type { User } from './cacheAside';

export const byId = (id: number) => `user:id:${id}`;
export const byEmail = (email: string) => `user:email:${email}`;

export class TwoKeyUserCache {
  constructor(
    protected readonly db: Queryable,
    protected readonly redis: Redis,
  ) {}

  async getUserByEmail(email: string): Promise<User | null> {
    const cached = await this.redis.get(byEmail(email));
    if (cached !== null) return JSON.parse(cached) as User;
    const [row] = await this.db.query<User & Record<string, unknown>>('SELECT id, name, email FROM users WHERE email = $1', [email]);
    if (!row) return null;
    await this.redis.set(byEmail(email), JSON.stringify(row));
    return row;
  }

  async changeEmail(id: number, email: string): Promise<void> {
    await this.db.query('UPDATE users SET email = $1 WHERE id = $2', [email, id]);
    await this.redis.del(byId(id)); // forgets user:email:<old> (and <new>)
  }
}

export class AllKeysUserCache extends TwoKeyUserCache {
  override async changeEmail(id: number, email: string): Promise<void> {
    const [old] = await this.db.query<{ email: string | null }>('SELECT email FROM users WHERE id = $1', [id]);
    await this.db.query('UPDATE users SET email = $1 WHERE id = $2', [email, id]);
    const keys = [byId(id), byEmail(email)];
    if (old?.email) keys.push(byEmail(old.email));
    await this.redis.del(...keys);
  }
}
