/**
 * Type test for `expect` imported from `@jest/globals` (its `Matchers` live in the `expect` module):
 * checked by `tsc --noEmit`, never executed.
 */
import { expect } from '@jest/globals';
import { defineCache, testDb, testRedis } from '../../src';

export async function jestGlobalsTypes(): Promise<void> {
  const redis = testRedis();
  const db = testDb();
  const userById = defineCache({ key: 'user:{id}', table: 'users' });

  await expect(redis).toBeConsistentWith(db);
  await expect(redis).toBeConsistentWith(db, [userById], { strict: true });
  await expect(redis).not.toBeConsistentWith(db, { maxReported: 1 });
  await expect(Promise.resolve(redis)).resolves.toBeConsistentWith(db);
  await expect(redis).toMatchKeyspaceSnapshot();

  // @ts-expect-error the database handle is required
  await expect(redis).toBeConsistentWith();
  // @ts-expect-error maxReported is a number
  await expect(redis).toBeConsistentWith(db, { maxReported: '3' });
  // @ts-expect-error not a matcher of this library
  await expect(redis).toBeConsistentWithCache(db);
}
