/** docs/races.md #4: delayed double delete. Its 500 ms sleep is a timer step: no schedule waits for it. */
import { everyInterleaving, type Scenario } from '../../src';
import { userById } from '../contracts';
import { DelayedDoubleDeleteUserCache } from '../services/delayedDoubleDelete';
import { LeaseUserCache } from '../services/leaseCache';
import { caught, order } from './helpers';

describe('docs/races.md #4: delayed double delete', () => {
  const base: Omit<Scenario, 'actors'> = {
    setup: ({ db }) => db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
    check: async ({ redis, db }) => {
      await expect(redis).toBeConsistentWith(db, [userById]);
    },
  };

  it('time is not a lock: R:GET(miss) R:SELECT(v1) W:UPDATE W:DEL (sleep) W:DEL R:SET(v1) is caught', async () => {
    const e = await caught(
      everyInterleaving({
        ...base,
        actors: {
          reader: ({ redis, db }) => new DelayedDoubleDeleteUserCache(db, redis).getUser(1),
          // An hour instead of 500 ms: still no real waiting, the sleep is a step.
          writer: ({ redis, db }) => new DelayedDoubleDeleteUserCache(db, redis, 3_600_000).updateUser(1, 'Jerry'),
        },
      }),
    );
    expect(order(e)).toEqual(['reader:GET', 'reader:SELECT', 'writer:UPDATE', 'writer:DEL', 'writer:sleep', 'writer:DEL', 'reader:SET']);
    expect(e.token).toBe('r1:reader*2,writer*4,reader');
  });

  it('the lease passes every interleaving, sleep or not', async () => {
    const summary = await everyInterleaving({
      ...base,
      actors: {
        reader: ({ redis, db }) => new LeaseUserCache(db, redis, { token: () => 'r' }).getUser(1),
        writer: ({ redis, db }) => new LeaseUserCache(db, redis).updateUser(1, 'Jerry'),
      },
    });
    expect(summary).toMatchObject({ complete: true, schedules: 6 }); // 15 orders, 6 distinct
  });
});
