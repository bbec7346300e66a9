/**
 * Type test for Jest's global `expect` (@types/jest): checked by `tsc --noEmit` (npm test runs it), never
 * executed. Every line must compile, and every `@ts-expect-error` line must be an error (an unused
 * `@ts-expect-error` fails the compile).
 */
import { cached, defineCache, testDb, testRedis, type CacheMatchers } from '../../src';

export async function globalExpectTypes(): Promise<void> {
  const redis = testRedis();
  const db = testDb();
  const userById = defineCache({
    key: 'user:{id}',
    load: (q, { id }) => q.query('SELECT id, name FROM users WHERE id = $1', [id]),
  });
  const activeIds = defineCache({ key: 'users:active', table: 'users', where: {}, column: 'id', as: 'set' });
  const versioned = defineCache({ key: 'v:{id}', table: 'users', decode: (e) => (e.type === 'string' ? cached.version(Number(e.value)) : cached.notCached) });

  await expect(redis).toBeConsistentWith(db);
  await expect(redis).toBeConsistentWith(db, [userById, activeIds, versioned]);
  await expect(redis).toBeConsistentWith(db, { strict: true, match: 'user:*', maxReported: 3 });
  await expect(redis).toBeConsistentWith(db, [userById], { strict: true });
  await expect(redis).not.toBeConsistentWith(db.pool);
  await expect(redis).toBeConsistentWith((sql: string, params: readonly unknown[]) => [{ sql, params }]);
  await expect(Promise.resolve(redis)).resolves.toBeConsistentWith(db);
  const pending: Promise<void> = expect(redis).toBeConsistentWith(db);
  await pending;

  // Key params are typed from the pattern.
  defineCache({ key: 'post:{userId}:{postId}', load: (q, p) => q.query('SELECT 1', [p.userId, p.postId]) });
  const post = defineCache({ key: 'post:{userId}:{postId}', ignore: true });
  const key: string = post.keyFor({ userId: 1, postId: '2' });
  void key;

  // @ts-expect-error the database handle is required
  await expect(redis).toBeConsistentWith();
  // @ts-expect-error a connection string is not a database handle
  await expect(redis).toBeConsistentWith('postgres://127.0.0.1/test');
  // @ts-expect-error strict is a boolean
  await expect(redis).toBeConsistentWith(db, { strict: 'yes' });
  // @ts-expect-error contracts are made by defineCache
  await expect(redis).toBeConsistentWith(db, [{ key: 'user:{id}' }]);
  // @ts-expect-error the key has no {userId} param
  defineCache({ key: 'user:{id}', load: (q, { userId }) => q.query('SELECT 1', [userId]) });
  // @ts-expect-error where names a param of the key
  defineCache({ key: 'user:{id}', table: 'users', where: { id: 'userId' } });
  // @ts-expect-error keyFor needs every param
  post.keyFor({ userId: 1 });
  // @ts-expect-error not an encoding
  defineCache({ key: 'x', table: 'users', as: 'xml' });
}

// The runner-neutral interface is exported for other runners' augmentations.
export type Check = CacheMatchers<void>['toBeConsistentWith'];
