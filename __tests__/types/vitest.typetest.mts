/**
 * Type test (compiled by `tsc --noEmit` in `npm test`, never run): the library's matchers on Vitest's `expect`,
 * and its options in Vitest's `test.provide`. Every line must compile except those marked @ts-expect-error,
 * which must fail to (an unused @ts-expect-error is itself an error).
 */
import { expect, inject } from 'vitest';
import { defineConfig } from 'vitest/config';
import { defineCache, testDb, testRedis } from '../../src/index.js';

const redis = testRedis();
const db = testDb();
const userById = defineCache({ key: 'user:{id}', load: (q, { id }) => q.query('SELECT id, name FROM users WHERE id = $1', [id]) });

export async function matchers(): Promise<void> {
  // Async matchers: each call is a promise to await.
  const checked: Promise<void> = expect(redis).toBeConsistentWith(db);
  await checked;
  await expect(redis).toBeConsistentWith(db, [userById]);
  await expect(redis).toBeConsistentWith(db, { strict: true, match: 'user:*' });
  await expect(redis).not.toBeConsistentWith(db, [userById], { maxReported: 3 });
  await expect(redis).toMatchKeyspaceSnapshot();
  await expect(redis).toMatchKeyspaceSnapshot('after checkout');
  await expect(redis).toMatchKeyspaceSnapshot({ match: 'user:*', redact: ['session:*'] }, 'users only');

  // @ts-expect-error the database argument is required
  await expect(redis).toBeConsistentWith();
  // @ts-expect-error options are an object or a hint string
  await expect(redis).toMatchKeyspaceSnapshot(42);
  // @ts-expect-error not an option of captureKeyspace
  await expect(redis).toMatchKeyspaceSnapshot({ mach: 'user:*' });
  // @ts-expect-error async matchers are not asymmetric matchers: there is no expect.toBeConsistentWith
  expect.toBeConsistentWith(db);
}

// Options live in test.provide.cacheConsistency, typed through Vitest's ProvidedContext.
export const config = defineConfig({
  test: {
    globalSetup: ['jest-cache-consistency/vitest/global-setup'],
    setupFiles: ['jest-cache-consistency/vitest'],
    provide: { cacheConsistency: { database: { schema: ['db/schema.sql'] }, redis: { args: ['--maxmemory', '64mb'] } } },
  },
});

export const wrongOption = defineConfig({
  test: {
    // @ts-expect-error a misspelt option is a type error (and an InvalidOptionsError at run time)
    provide: { cacheConsistency: { redis: { bianry: '/usr/bin/redis-server' } } },
  },
});

export function provided(): number {
  const state = inject('cacheConsistencyState');
  return state ? state.redisUrls.length : 0;
}
