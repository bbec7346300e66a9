/** docs/races.md #8: negative cache. */
import { everyInterleaving, type Scenario } from '../../src';
import { userById } from '../contracts';
import { LeaseNegativeCache, NegativeUserCache } from '../services/negativeCache';
import { caught, order } from './helpers';

const scenario = (make: (db: never, redis: never) => NegativeUserCache): Scenario => ({
  actors: {
    reader: ({ redis, db }) => make(db as never, redis as never).getUser(3),
    writer: ({ redis, db }) => make(db as never, redis as never).createUser(3, 'Tyke'),
  },
  check: async ({ redis, db }) => {
    await expect(redis).toBeConsistentWith(db, [userById]);
  },
});

describe('docs/races.md #8: negative cache', () => {
  it('R:GET(miss) R:SELECT(none) W:INSERT W:DEL R:SET(null marker) is caught', async () => {
    const e = await caught(everyInterleaving(scenario((db, redis) => new NegativeUserCache(db, redis))));
    expect(order(e)).toEqual(['reader:GET', 'reader:SELECT', 'writer:INSERT', 'writer:DEL', 'reader:SET']);
    expect(e.steps[4]).toBe('reader  redis SET user:3 null -> OK');
    expect(e.message).toMatch(/stale not-found|not.found/i);
  });

  it('the lease passes every interleaving', async () => {
    const summary = await everyInterleaving(scenario((db, redis) => new LeaseNegativeCache(db, redis, () => 'reader')));
    expect(summary).toMatchObject({ complete: true });
  });
});
