/**
 * The fix for docs/races.md #5 and #6: versioned entries, set only if newer.
 *
 * Every row has a version column the database bumps on each write. The cache holds the row with its version,
 * and every write to the cache (a reader's fill, a writer's write-through) goes through a script that writes
 * only when the cached version is older (or absent). An older row can never overwrite a newer one, whatever
 * the order the writes arrive in.
 */
import type Redis from 'ioredis';
import type { Queryable } from '../../src';

export interface VersionedUser {
  id: number;
  name: string;
  email: string | null;
  version: number;
}

/** SET KEYS[1] ARGV[1] unless the cached entry's version is >= ARGV[2]. */
export const SET_IF_NEWER = `
local current = redis.call('GET', KEYS[1])
if current then
  local ok, decoded = pcall(cjson.decode, current)
  if ok and type(decoded) == 'table' and tonumber(decoded.version) and tonumber(decoded.version) >= tonumber(ARGV[2]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1])
return 1`;

export class VersionedUserCache {
  constructor(
    private readonly db: Queryable,
    private readonly redis: Redis,
  ) {}

  #setIfNewer(user: VersionedUser): Promise<unknown> {
    return this.redis.eval(SET_IF_NEWER, 1, `user:${user.id}`, JSON.stringify(user), user.version);
  }

  async getUser(id: number): Promise<VersionedUser | null> {
    const cached = await this.redis.get(`user:${id}`);
    if (cached !== null) return JSON.parse(cached) as VersionedUser;
    const [row] = await this.db.query<VersionedUser & Record<string, unknown>>('SELECT id, name, email, version FROM users WHERE id = $1', [id]);
    if (!row) return null;
    await this.#setIfNewer(row);
    return row;
  }

  /** Write-through: the new row, with the version the database gave it. */
  async updateUser(id: number, name: string): Promise<void> {
    const [row] = await this.db.query<VersionedUser & Record<string, unknown>>(
      'UPDATE users SET name = $1, version = version + 1 WHERE id = $2 RETURNING id, name, email, version',
      [name, id],
    );
    if (row) await this.#setIfNewer(row);
  }
}
