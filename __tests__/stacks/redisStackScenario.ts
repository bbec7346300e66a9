/**
 * The scenario the Redis-client stacks share (ioredis 5/6, iovalkey, node-redis 5/6): a reader and a writer of
 * user 1 through the stack's own service, checked with the consistency matcher.
 */
import { everyInterleaving, type Scenario } from '../../src';
import { userById } from '../../examples/contracts';
import { caught, order } from '../../examples/__tests__/helpers';

export interface UserServiceLike {
  getUser(id: number): Promise<unknown>;
  updateUser(id: number, name: string): Promise<void>;
}

// #region docs
/** reader: getUser(1); writer: updateUser(1, 'Jerry'); the users row 1 is 'Tom' before each schedule. */
export function userScenario<R extends object = object>(service: (args: { redis: never; db: never }) => UserServiceLike, options: Partial<Scenario<R, unknown>> = {}): Scenario<R, unknown> {
  return {
    setup: ({ db }) => (db as { query(sql: string): Promise<unknown> }).query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
    actors: {
      reader: (args) => service(args as never).getUser(1),
      writer: (args) => service(args as never).updateUser(1, 'Jerry'),
    },
    check: async ({ redis, db }) => {
      await expect(redis).toBeConsistentWith(db as never, [userById]);
    },
    ...options,
  };
}
// #endregion docs

/** The classic race's failing schedule: R:GET(miss) R:SELECT(Tom) W:UPDATE W:DEL R:SET(Tom); its step labels. */
export async function expectClassicRaceCaught<R extends object>(scenario: Scenario<R, unknown>): Promise<readonly string[]> {
  const e = await caught(everyInterleaving(scenario));
  expect(e.code).toBe('RACE_FAILED');
  expect(order(e)).toEqual(['reader:GET', 'reader:SELECT', 'writer:UPDATE', 'writer:DEL', 'reader:SET']);
  expect(e.steps[0]).toBe('reader  redis GET user:1 -> null');
  expect(e.steps[3]).toMatch(/^writer {2}redis DEL user:1 -> [01]$/);
  expect(e.message).toContain('stale: the cached value differs from a fresh read-through');
  return e.steps;
}
