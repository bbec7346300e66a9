/** docs/races.md #1: stale set after delete. The seed scenario, and the README's demo. */
import { everyInterleaving, race, replay, testDb, testRedis, type Scenario } from '../../src';
import { userById } from '../contracts';
import { UserCache } from '../services/cacheAside';
import { LeaseUserCache } from '../services/leaseCache';
import { caught, order } from './helpers';

type Service = new (...args: ConstructorParameters<typeof UserCache>) => { getUser(id: number): Promise<unknown>; updateUser(id: number, name: string): Promise<void> };

function scenario(Service: Service): Scenario {
  return {
    setup: ({ db }) => db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
    actors: {
      reader: ({ redis, db }) => new Service(db, redis).getUser(1),
      writer: ({ redis, db }) => new Service(db, redis).updateUser(1, 'Jerry'),
    },
    check: async ({ redis, db }) => {
      await expect(redis).toBeConsistentWith(db, [userById]);
    },
  };
}

class FixedTokenLease extends LeaseUserCache {
  constructor(...args: ConstructorParameters<typeof UserCache>) {
    super(args[0], args[1], { token: () => 'reader' });
  }
}

describe('docs/races.md #1: stale set after delete', () => {
  it('cache-aside "update the database, then delete" is caught: R:GET(miss) R:SELECT(v1) W:UPDATE(v2) W:DEL R:SET(v1)', async () => {
    const e = await caught(everyInterleaving(scenario(UserCache)));
    expect(order(e)).toEqual(['reader:GET', 'reader:SELECT', 'writer:UPDATE', 'writer:DEL', 'reader:SET']);
    expect(e.steps[1]).toContain("-> {id: 1, name: 'Tom', email: null}");
    expect(e.steps[4]).toBe('reader  redis SET user:1 {"id":1,"name":"Tom","email":null} -> OK');
    expect(e.message).toContain('stale: the cached value differs from a fresh read-through');
    // The token replays exactly that order.
    await expect(replay(e.token, scenario(UserCache))).rejects.toThrow(e.steps[4]!.slice('reader  '.length));
  });

  it('the lease with a compare-and-set fill passes every interleaving', async () => {
    await expect(everyInterleaving(scenario(FixedTokenLease))).resolves.toMatchObject({ schedules: 6, classes: 6, complete: true }); // 15 orders, 6 distinct
  });

  it('by hand: park the reader before its fill, run the writer, release', async () => {
    const redis = testRedis();
    const db = testDb();
    await db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`);
    const r = race();
    const reader = r.actor('reader');
    const writer = r.actor('writer');
    const fill = reader.pauseBefore('redis', 'SET', 'user:*');
    const read = new UserCache(reader.db, reader.redis).getUser(1);
    await fill.reached;
    await new UserCache(writer.db, writer.redis).updateUser(1, 'Jerry');
    fill.release();
    await read;
    await expect(expect(redis).toBeConsistentWith(db, [userById])).rejects.toThrow(/user:1[\s\S]*stale/);
  });
});
