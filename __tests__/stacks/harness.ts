/**
 * The scenario every stack test runs: one user row (1, 'Tom'); a reader reads user 1 through the cache while a
 * writer renames it to 'Jerry'; after each schedule the cache must agree with the database (examples/contracts.ts'
 * userById, read through `checkDb`, a plain pool of the same database).
 */
import type Redis from 'ioredis';
import type { ActorArgs, Scenario } from '../../src';
import { userById } from '../../examples/contracts';

export { caught, order } from '../../examples/__tests__/helpers';

export interface UserServiceLike {
  getUser(id: number): Promise<unknown>;
  updateUser(id: number, name: string): Promise<void>;
}

export interface StackScenario<D> {
  /** The scenario's database handle: each actor gets its own connection of it (or it is bound, and actors share the module's). */
  readonly db: D;
  readonly resetDb: (db: D) => unknown;
  /** Inserts user (1, 'Tom') (through the scenario's own handle). */
  readonly seed: (db: D) => unknown;
  /** The service as an actor builds it from its own clients. */
  readonly service: (args: ActorArgs<Redis, D>) => UserServiceLike;
  /** What the consistency check reads the database through. */
  readonly checkDb: unknown;
}

// #region docs
export function userScenario<D>(s: StackScenario<D>): Scenario<Redis, D> {
  return {
    db: s.db,
    resetDb: s.resetDb,
    setup: ({ db }) => s.seed(db),
    actors: {
      reader: (args) => s.service(args).getUser(1),
      writer: (args) => s.service(args).updateUser(1, 'Jerry'),
    },
    check: async ({ redis }) => {
      await expect(redis).toBeConsistentWith(s.checkDb as never, [userById]);
    },
  };
}
// #endregion docs

/** A fixed lease token: reports are byte-identical and final states compare by value (reduction: 'verify'). */
export const fixedToken = (): string => 'reader';
