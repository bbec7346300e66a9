/**
 * Trace checks: the reduced search assumes actors share state only through Redis and the database. After it
 * passes, it runs, for each class it covered, one order it held equivalent (two adjacent steps of different actors
 * that commute by their footprints, swapped). A service with an in-process cache layer in front of Redis (an L1,
 * as BentoCache and cache-manager's multi-store setups keep) breaks the assumption; the trace checks find its race.
 */
import { everyInterleaving, RaceFailureError, type TestDb } from '../../src';
import type Redis from 'ioredis';

type User = {
  id: number;
  name: string;
};

/** A two-level cache: an in-process Map in front of Redis, shared by every caller in the process. */
function twoLevel(l1: Map<string, string>) {
  return {
    async getUser(db: TestDb, redis: Redis): Promise<User> {
      const local = l1.get('user:1');
      if (local) return JSON.parse(local) as User;
      const hit = await redis.get('user:1');
      if (hit) {
        l1.set('user:1', hit);
        return JSON.parse(hit) as User;
      }
      const [row] = await db.query<User>('SELECT id, name FROM users WHERE id = 1');
      const value = JSON.stringify(row);
      await redis.set('user:1', value);
      l1.set('user:1', value);
      return row!;
    },
    async updateUser(db: TestDb, redis: Redis, name: string): Promise<void> {
      await db.query('UPDATE users SET name = $1 WHERE id = 1', [name]);
      l1.delete('user:1');
      await redis.del('user:1');
    },
  };
}

function scenario(l1: Map<string, string>) {
  const service = twoLevel(l1);
  return {
    setup: async ({ redis, db }: { redis: Redis; db: TestDb }) => {
      await db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`);
      l1.clear();
      // The row is cached in Redis already (L2), not yet in this process (L1).
      await redis.set('user:1', JSON.stringify({ id: 1, name: 'Tom' }));
    },
    actors: {
      reader: ({ redis, db }: { redis: Redis; db: TestDb }) => service.getUser(db, redis),
      writer: ({ redis, db }: { redis: Redis; db: TestDb }) => service.updateUser(db, redis, 'Jerry'),
    },
    check: async ({ db }: { db: TestDb }) => {
      const [row] = await db.query<User>('SELECT id, name FROM users WHERE id = 1');
      const local = l1.get('user:1');
      if (local !== undefined) expect(JSON.parse(local)).toEqual(row);
    },
  };
}

it('an in-process L1 in front of Redis: brute force finds the stale L1; so does the default reduced search, by a trace check', async () => {
  const l1 = new Map<string, string>();
  const brute = await everyInterleaving({ ...scenario(l1), strategy: { kind: 'exhaustive', reduction: 'none' } }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(brute).toBeInstanceOf(RaceFailureError);
  const reduced = await everyInterleaving(scenario(l1)).then(
    (summary) => summary,
    (e: unknown) => e,
  );
  expect(reduced).toBeInstanceOf(RaceFailureError);
  expect((reduced as RaceFailureError).message).toContain('an order it held equivalent to one it ran');
});

it('without shared state the trace checks pass: at most one per class, reported beside the schedules', async () => {
  const summary = await everyInterleaving({
    actors: {
      a: async ({ redis }) => void (await redis.set('a', '1')),
      b: async ({ redis }) => {
        await redis.set('b', '1');
        await redis.get('a');
      },
    },
  });
  // Two classes (b's GET before or after a's SET); only one of them has two adjacent steps of different actors that
  // commute and were both pending there, so one trace check runs.
  expect(summary).toEqual({ schedules: 2, classes: 2, traceChecks: 1, complete: true, strategy: 'exhaustive (partial-order reduced)' });
});

it('actors that share harmless state in the process (a memo) take other steps in a swapped order: the call searches every order instead, and says so', async () => {
  // Whichever actor gets past its SET first takes the memo; the other reads the shared key instead.
  let taken = false;
  const actor = (key: string) => async ({ redis }: { redis: Redis }) => {
    await redis.set(key, '1');
    if (!taken) {
      taken = true;
      return;
    }
    await redis.get('shared');
  };
  const summary = await everyInterleaving({
    setup: () => {
      taken = false;
    },
    actors: { a: actor('a'), b: actor('b') },
  });
  // The reduced search runs a SET, b SET, b GET (the SETs commute); its trace check, b SET, a SET, makes a read
  // instead of b. Brute force: a's SET first (then b's SET and GET), or b's first (then a's SET and GET).
  expect(summary).toEqual({ schedules: 2, complete: true, strategy: 'exhaustive', traceChecks: 1, fellBackToBruteForce: true });
});
