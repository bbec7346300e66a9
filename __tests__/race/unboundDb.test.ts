/**
 * The race's own database handle (testDb(), its pool) called directly from inside an actor, neither through the
 * actor's `db` nor bound with bindToActors: its statements would run outside the scheduler (pg-mem runs in the
 * process, so no network guard sees them) and a race such as docs/races.md #1 would pass unseen. It fails with
 * RACE_UNINSTRUMENTED_IO; outside actors, and after the race, the handle works as before.
 */
import { bindToActors, everyInterleaving, RaceUninstrumentedIoError, testDb, type Scenario } from '../../src';
import { userById } from '../../examples/contracts';
import { UserCache } from '../../examples/services/cacheAside';
import { caught, order } from '../../examples/__tests__/helpers';

/** The classic cache-aside service, its database the module-level `db` rather than the actor's. */
const classic = (db: ReturnType<typeof testDb>): Scenario => ({
  setup: ({ db: own }) => own.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
  actors: {
    reader: ({ redis }) => new UserCache(db, redis).getUser(1),
    writer: ({ redis }) => new UserCache(db, redis).updateUser(1, 'Jerry'),
  },
  check: async ({ redis, db: own }) => {
    await expect(redis).toBeConsistentWith(own, [userById]);
  },
});

async function rejection(run: Promise<unknown>): Promise<unknown> {
  return run.then(
    (summary) => {
      throw new Error(`expected the race to fail, but it passed: ${JSON.stringify(summary)}`);
    },
    (error: unknown) => error,
  );
}

it('testDb() called directly inside an actor fails with RACE_UNINSTRUMENTED_IO (it used to pass, the race unseen); after the race it works', async () => {
  const error = await rejection(everyInterleaving(classic(testDb())));
  expect(error).toBeInstanceOf(RaceUninstrumentedIoError);
  expect(error).toMatchObject({ code: 'RACE_UNINSTRUMENTED_IO', what: expect.stringContaining('called query() on the race\'s database handle directly') });
  expect(await testDb().query(`SELECT count(*)::int AS n FROM users`)).toEqual([{ n: 0 }]);
});

it('testDb().pool called directly inside an actor fails too, in the promise and the callback forms', async () => {
  const pool = testDb().pool;
  const promiseForm = await rejection(everyInterleaving({ actors: { a: () => pool.query('SELECT 1') } }));
  expect(promiseForm).toMatchObject({ code: 'RACE_UNINSTRUMENTED_IO', actor: 'a' });
  const callbackForm = await rejection(
    everyInterleaving({
      actors: {
        a: () =>
          new Promise<void>((resolve, reject) => {
            (pool.query as unknown as (sql: string, cb: (err: unknown) => void) => void)('SELECT 1', (err) => (err ? reject(err as Error) : resolve()));
          }),
      },
    }),
  );
  expect(callbackForm).toMatchObject({ code: 'RACE_UNINSTRUMENTED_IO', actor: 'a' });
  expect((await pool.query('SELECT 1 AS x')).rows).toEqual([{ x: 1 }]);
});

it('bound with bindToActors, the same module-level testDb() is each actor\'s own: its statements are steps and the race is caught', async () => {
  const db = bindToActors(testDb());
  const e = await caught(everyInterleaving(classic(db)));
  expect(order(e)).toEqual(['reader:GET', 'reader:SELECT', 'writer:UPDATE', 'writer:DEL', 'reader:SET']);
});
