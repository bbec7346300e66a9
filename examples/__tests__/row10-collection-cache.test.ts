/** docs/races.md #10: a cached collection of ids. */
import { everyInterleaving, type Scenario } from '../../src';
import { activeUserIds } from '../contracts';
import { ActiveUsers, LeaseActiveUsers } from '../services/collectionCache';
import { caught, order } from './helpers';

const scenario = (make: (db: never, redis: never) => ActiveUsers): Scenario => ({
  setup: ({ db }) => db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom'), (2, 'Jerry')`),
  actors: {
    reader: ({ redis, db }) => make(db as never, redis as never).activeIds(),
    writer: ({ redis, db }) => make(db as never, redis as never).addUser(3, 'Spike'),
  },
  check: async ({ redis, db }) => {
    await expect(redis).toBeConsistentWith(db, [activeUserIds]);
  },
});

describe('docs/races.md #10: collection cache', () => {
  it('R:GET(ids, miss) R:SELECT([1,2]) W:INSERT(3) W:DEL(ids) R:SET([1,2]) is caught', async () => {
    const e = await caught(everyInterleaving(scenario((db, redis) => new ActiveUsers(db, redis))));
    expect(order(e)).toEqual(['reader:GET', 'reader:SELECT', 'writer:INSERT', 'writer:DEL', 'reader:SET']);
    expect(e.steps[4]).toBe('reader  redis SET users:active [1,2] -> OK');
  });

  it('an insert path that forgets the list key is caught too', async () => {
    const e = await caught(everyInterleaving(scenario((db, redis) => new ActiveUsers(db, redis, true))));
    expect(order(e)).toContain('writer:INSERT');
    expect(order(e)).not.toContain('writer:DEL');
  });

  it('invalidating the list key, with a lease on the fill, passes every interleaving', async () => {
    const summary = await everyInterleaving(scenario((db, redis) => new LeaseActiveUsers(db, redis, () => 'reader')));
    expect(summary).toMatchObject({ complete: true });
  });
});
