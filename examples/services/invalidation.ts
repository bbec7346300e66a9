/**
 * docs/races.md #7, "lost invalidation": the delete after a database write fails.
 *   W:UPDATE(v2) -> W:DEL throws, caught and logged -> R:GET hits v1
 * SwallowingUserCache catches the error and carries on: the write "succeeded", the cache stays stale, and no
 * caller knows. ReportingUserCache lets the failure reach its caller (who can retry or alert): the cache is
 * stale too, but the failure is visible, which a test can accept.
 */
import { UserCache } from './cacheAside';

export class InvalidationFailedError extends Error {
  constructor(
    readonly key: string,
    cause: unknown,
  ) {
    super(`the database was updated but the cache key ${key} could not be deleted`, { cause });
    this.name = 'InvalidationFailedError';
  }
}

export class SwallowingUserCache extends UserCache {
  readonly log: string[] = [];

  override async updateUser(id: number, name: string): Promise<void> {
    await this.db.query('UPDATE users SET name = $1 WHERE id = $2', [name, id]);
    try {
      await this.redis.del(`user:${id}`);
    } catch (error) {
      this.log.push(`cache delete failed: ${(error as Error).message}`); // ...and nobody reads the log
    }
  }
}

export class ReportingUserCache extends UserCache {
  override async updateUser(id: number, name: string): Promise<void> {
    await this.db.query('UPDATE users SET name = $1 WHERE id = $2', [name, id]);
    try {
      await this.redis.del(`user:${id}`);
    } catch (error) {
      throw new InvalidationFailedError(`user:${id}`, error);
    }
  }
}
