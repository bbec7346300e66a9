/** docs/races.md #7: lost invalidation, exposed by injecting a failure into the DEL. */
import { everyInterleaving, InjectedFaultError, type Scenario } from '../../src';
import { userById } from '../contracts';
import { UserCache } from '../services/cacheAside';
import { InvalidationFailedError, ReportingUserCache, SwallowingUserCache } from '../services/invalidation';
import { caught, order } from './helpers';

function scenario(Service: typeof UserCache): Scenario {
  return {
    setup: async ({ db, redis }) => {
      await db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`);
      await redis.set('user:1', '{"id":1,"name":"Tom","email":null}');
    },
    faults: [{ actor: 'writer', at: { redis: 'DEL' } }],
    actors: {
      writer: ({ redis, db }) => new Service(db, redis).updateUser(1, 'Jerry'),
      reader: ({ redis, db }) => new Service(db, redis).getUser(1),
    },
    check: async ({ redis, db, outcomes }) => {
      // A writer that tells its caller the invalidation failed is acceptable: the caller can retry or alert.
      if (!outcomes.writer!.ok) {
        expect((outcomes.writer as { error: unknown }).error).toBeInstanceOf(InvalidationFailedError);
        return;
      }
      await expect(redis).toBeConsistentWith(db, [userById]);
    },
  };
}

describe('docs/races.md #7: lost invalidation', () => {
  it('a swallowed DEL failure is caught: W:UPDATE(v2) W:DEL(throws, swallowed) R:GET(hits v1)', async () => {
    const e = await caught(everyInterleaving(scenario(SwallowingUserCache)));
    expect(order(e)).toEqual(['writer:UPDATE', 'writer:DEL', 'reader:GET']);
    expect(e.steps[1]).toMatch(/^writer {2}! redis DEL user:1 -> !InjectedFaultError/);
    expect(e.steps[2]).toBe('reader  redis GET user:1 -> {"id":1,"name":"Tom","email":null}');
    expect(e.message).toContain('writer  returned');
  });

  it('a service that reports the failed invalidation to its caller passes', async () => {
    const summary = await everyInterleaving(scenario(ReportingUserCache));
    expect(summary).toMatchObject({ complete: true, schedules: 2 }); // 3 orders, 2 distinct
  });

  it('the injected error reaches the writer as the DEL rejection', async () => {
    const errors: unknown[] = [];
    await everyInterleaving({
      ...scenario(ReportingUserCache),
      check: ({ outcomes }) => void errors.push(((outcomes.writer as { error: InvalidationFailedError }).error).cause),
    });
    expect(errors.every((e) => e instanceof InjectedFaultError)).toBe(true);
  });
});
