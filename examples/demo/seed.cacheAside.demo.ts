/**
 * `npm run demo`, part 1: the bundled cache-aside service (examples/services/cacheAside.ts) under every
 * interleaving of one reader and one writer. This test FAILS on purpose: the library catches docs/races.md #1.
 */
import { everyInterleaving } from '../../src';
import { userById } from '../contracts';
import { UserCache } from '../services/cacheAside';

it('cache-aside: every interleaving of getUser(1) and updateUser(1, "Jerry") leaves Redis consistent', async () => {
  await everyInterleaving({
    setup: ({ db }) => db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
    actors: {
      reader: ({ redis, db }) => new UserCache(db, redis).getUser(1),
      writer: ({ redis, db }) => new UserCache(db, redis).updateUser(1, 'Jerry'),
    },
    check: async ({ redis, db }) => {
      await expect(redis).toBeConsistentWith(db, [userById]);
    },
  });
});
