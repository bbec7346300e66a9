/**
 * The race's own database handle (testDb(), its pool) called directly from inside an actor, neither through the
 * actor's `db` nor bound by hand: it is bound when the race starts, so its statements are the actor's steps, on the
 * actor's own connection, and a race such as docs/races.md #1 is caught (it used to pass, unseen: pg-mem runs in
 * the process, so no socket shows its statements). Outside actors, and after the race, the handle works as before.
 */
import { everyInterleaving, testDb, type Scenario } from '../../src';
import { userById } from '../../examples/contracts';
import { UserCache } from '../../examples/services/cacheAside';
import { caught, order } from '../../examples/__tests__/helpers';

/** The classic cache-aside service, its database the module-level `db` rather than the actor's. */
const classic = (db: ConstructorParameters<typeof UserCache>[0]): Scenario => ({
  setup: ({ db: own }) => own.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
  actors: {
    reader: ({ redis }) => new UserCache(db, redis).getUser(1),
    writer: ({ redis }) => new UserCache(db, redis).updateUser(1, 'Jerry'),
  },
  check: async ({ redis, db: own }) => {
    await expect(redis).toBeConsistentWith(own, [userById]);
  },
});

it('testDb() called directly inside the actors: the classic race is caught, its statements the actors’ steps; after the race it works', async () => {
  const e = await caught(everyInterleaving(classic(testDb())));
  expect(order(e)).toEqual(['reader:GET', 'reader:SELECT', 'writer:UPDATE', 'writer:DEL', 'reader:SET']);
  expect(await testDb().query(`SELECT count(*)::int AS n FROM users`)).toEqual([{ n: 0 }]);
});

it('testDb().pool called directly inside an actor is a step, in the promise and the callback forms', async () => {
  const pool = testDb().pool;
  const summary = await everyInterleaving({
    actors: {
      a: () => pool.query('SELECT 1 AS x'),
      b: () =>
        new Promise<void>((resolve, reject) => {
          (pool.query as unknown as (sql: string, cb: (err: unknown) => void) => void)('SELECT 2 AS x', (err) => (err ? reject(err as Error) : resolve()));
        }),
    },
    check: ({ steps }) => {
      expect(steps.map((s) => `${s.actor} ${s.description}`).sort()).toEqual(['a db SELECT 1 AS x', 'b db SELECT 2 AS x']);
    },
  });
  expect(summary).toMatchObject({ complete: true });
  expect((await pool.query('SELECT 1 AS x')).rows).toEqual([{ x: 1 }]);
});
