/** docs/races.md #3: delete, then update. */
import { everyInterleaving, RaceFailureError, replay, type Scenario } from '../../src';
import { userById } from '../contracts';
import type { UserCache } from '../services/cacheAside';
import { DeleteFirstUserCache } from '../services/deleteFirst';
import { LeaseUserCache } from '../services/leaseCache';
import { caught, order } from './helpers';

type Service = new (...args: ConstructorParameters<typeof UserCache>) => { getUser(id: number): Promise<unknown>; updateUser(id: number, name: string): Promise<void> };

const scenario = (Service: Service): Scenario => ({
  setup: ({ db }) => db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
  actors: {
    writer: ({ redis, db }) => new Service(db, redis).updateUser(1, 'Jerry'),
    reader: ({ redis, db }) => new Service(db, redis).getUser(1),
  },
  check: async ({ redis, db }) => {
    await expect(redis).toBeConsistentWith(db, [userById]);
  },
});

describe('docs/races.md #3: delete, then update', () => {
  it('"delete the cache first" is caught, and the documented W:DEL R:GET(miss) R:SELECT(v1) W:UPDATE(v2) R:SET(v1) fails', async () => {
    const e = await caught(everyInterleaving(scenario(DeleteFirstUserCache)));
    // Shrunk to fewer preemptions: the reader refills between the writer's delete and its update.
    expect(order(e)).toEqual(['writer:DEL', 'reader:GET', 'reader:SELECT', 'reader:SET', 'writer:UPDATE']);
    const documented = await replay('r1:writer,reader*2,writer,reader', scenario(DeleteFirstUserCache)).catch((err: unknown) => err);
    expect(documented).toBeInstanceOf(RaceFailureError);
    expect(order(documented as RaceFailureError)).toEqual(['writer:DEL', 'reader:GET', 'reader:SELECT', 'writer:UPDATE', 'reader:SET']);
  });

  it('update first, then delete, with the lease: every interleaving passes', async () => {
    const summary = await everyInterleaving(scenario(class extends LeaseUserCache {}));
    expect(summary).toMatchObject({ schedules: 6, complete: true }); // 15 orders, 6 distinct
  });
});
