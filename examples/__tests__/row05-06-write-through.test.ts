/** docs/races.md #5 and #6: write-through without versions. */
import { everyInterleaving, type Scenario } from '../../src';
import { userById, versionedUserById } from '../contracts';
import { VersionedUserCache } from '../services/versionedCache';
import { WriteThroughUserCache } from '../services/writeThrough';
import { caught, order } from './helpers';

const setup: Scenario['setup'] = ({ db }) => db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`);

describe('docs/races.md #5: two writers set', () => {
  it('W1:UPDATE(v1) W2:UPDATE(v2) W2:SET(v2) W1:SET(v1) is caught', async () => {
    const e = await caught(
      everyInterleaving({
        setup,
        actors: {
          w1: ({ redis, db }) => new WriteThroughUserCache(db, redis).updateUser(1, 'Jerry'),
          w2: ({ redis, db }) => new WriteThroughUserCache(db, redis).updateUser(1, 'Spike'),
        },
        check: async ({ redis, db }) => {
          await expect(redis).toBeConsistentWith(db, [userById]);
        },
      }),
    );
    expect(order(e)).toEqual(['w1:UPDATE', 'w2:UPDATE', 'w2:SET', 'w1:SET']);
    expect(e.steps[3]).toContain('SET user:1 {"id":1,"name":"Jerry","email":null}');
  });

  it('versioned set-if-newer passes every interleaving', async () => {
    const summary = await everyInterleaving({
      setup,
      actors: {
        w1: ({ redis, db }) => new VersionedUserCache(db, redis).updateUser(1, 'Jerry'),
        w2: ({ redis, db }) => new VersionedUserCache(db, redis).updateUser(1, 'Spike'),
      },
      check: async ({ redis, db }) => {
        await expect(redis).toBeConsistentWith(db, [versionedUserById]);
      },
    });
    expect(summary).toMatchObject({ complete: true, schedules: 4 }); // 6 orders, 4 distinct (docs/race.md#reduction)
  });
});

describe('docs/races.md #6: a fill overwrites the write-through', () => {
  it('R:GET(miss) R:SELECT(v1) W:UPDATE(v2) W:SET(v2) R:SET(v1) is caught', async () => {
    const e = await caught(
      everyInterleaving({
        setup,
        actors: {
          reader: ({ redis, db }) => new WriteThroughUserCache(db, redis).getUser(1),
          writer: ({ redis, db }) => new WriteThroughUserCache(db, redis).updateUser(1, 'Jerry'),
        },
        check: async ({ redis, db }) => {
          await expect(redis).toBeConsistentWith(db, [userById]);
        },
      }),
    );
    expect(order(e)).toEqual(['reader:GET', 'reader:SELECT', 'writer:UPDATE', 'writer:SET', 'reader:SET']);
  });

  it('versioned set-if-newer passes every interleaving of a reader and two writers', async () => {
    const summary = await everyInterleaving({
      setup,
      actors: {
        reader: ({ redis, db }) => new VersionedUserCache(db, redis).getUser(1),
        w1: ({ redis, db }) => new VersionedUserCache(db, redis).updateUser(1, 'Jerry'),
        w2: ({ redis, db }) => new VersionedUserCache(db, redis).updateUser(1, 'Spike'),
      },
      check: async ({ redis, db }) => {
        await expect(redis).toBeConsistentWith(db, [versionedUserById]);
      },
    });
    // Fewer than 210: a reader that finds the cache already written takes 1 step instead of 3.
    expect(summary).toMatchObject({ complete: true, schedules: 44 }); // 188 orders by brute force
  });
});
