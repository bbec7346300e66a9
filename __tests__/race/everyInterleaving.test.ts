import { createClient } from 'redis';
import Redis from 'ioredis';
import {
  findRedisServerBinary,
  startRedisServer,
  defineCache,
  everyInterleaving,
  InvalidRaceScenarioError,
  RaceFailureError,
  redisUrl,
  replay,
  ScheduleReplayMismatchError,
  testDb,
  testRedis,
  type Scenario,
} from '../../src';
import { UserCache } from '../../examples/services/cacheAside';
import { LeaseUserCache } from '../../examples/services/leaseCache';

const userById = defineCache({
  key: 'user:{id}',
  load: (db, { id }) => db.query('SELECT id, name, email FROM users WHERE id = $1', [Number(id)]),
  skip: 'lease:',
});

/** The seed scenario (docs/races.md #1) on a given service. */
function seed(service: 'cache-aside' | 'lease'): Scenario {
  const make = (db: ConstructorParameters<typeof UserCache>[0], redis: ConstructorParameters<typeof UserCache>[1], actor: string) =>
    service === 'lease' ? new LeaseUserCache(db, redis, { token: () => actor }) : new UserCache(db, redis);
  return {
    setup: ({ db }) => db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
    actors: {
      reader: ({ redis, db, actor }) => make(db, redis, actor).getUser(1),
      writer: ({ redis, db, actor }) => make(db, redis, actor).updateUser(1, 'Jerry'),
    },
    check: async ({ redis, db }) => {
      await expect(redis).toBeConsistentWith(db, [userById]);
    },
  };
}

async function failure(p: Promise<unknown>): Promise<RaceFailureError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof RaceFailureError)) throw new Error(`expected a RaceFailureError, got ${String(e)}`);
  return e;
}

describe('everyInterleaving on the seed scenario (docs/races.md #1)', () => {
  it('catches the stale set after delete, with the documented interleaving, shrunk and replayable', async () => {
    const e = await failure(everyInterleaving(seed('cache-aside')));
    expect(e.code).toBe('RACE_FAILED');
    expect(e.token).toBe('r1:reader*2,writer*2,reader');
    expect(e.steps).toEqual([
      'reader  redis GET user:1 -> null',
      "reader  db SELECT id, name, email FROM users WHERE id = $1 [1] -> {id: 1, name: 'Tom', email: null}",
      "writer  db UPDATE users SET name = $1 WHERE id = $2 ['Jerry', 1] -> 1 row",
      'writer  redis DEL user:1 -> 0',
      'reader  redis SET user:1 {"id":1,"name":"Tom","email":null} -> OK',
    ]);
    expect(e.report).toMatchSnapshot();
  });

  it('explores all 10 orders of the cache-aside service (C(5,2)), 1 of them inconsistent', async () => {
    let inconsistent = 0;
    const scenario = seed('cache-aside');
    const summary = await everyInterleaving({
      ...scenario,
      check: async (args) => {
        await Promise.resolve(scenario.check!(args)).catch(() => inconsistent++);
      },
    });
    // The default search is reduced: 5 classes (the reader's GET and the writer's UPDATE commute, ...), 1 failing.
    // Then 3 trace checks: one order per class equivalent to it (two commuting steps swapped), also consistent.
    expect(summary).toEqual({ schedules: 5, classes: 5, traceChecks: 3, complete: true, strategy: 'exhaustive (partial-order reduced)' });
    expect(inconsistent).toBe(1);
    inconsistent = 0;
    const brute = await everyInterleaving({ ...seed('cache-aside'), strategy: { kind: 'exhaustive', reduction: 'none' }, check: async ({ redis, db }) => {
      await expect(redis).toBeConsistentWith(db, [userById]).catch(() => inconsistent++);
    } });
    expect(brute).toEqual({ schedules: 10, complete: true, strategy: 'exhaustive' });
    expect(inconsistent).toBe(1);
  });

  it('passes every interleaving with the lease fix (4 reader steps + 2 writer steps: 15 orders)', async () => {
    const summary = await everyInterleaving(seed('lease'));
    expect(summary).toEqual({ schedules: 6, classes: 6, traceChecks: 4, complete: true, strategy: 'exhaustive (partial-order reduced)' });
    await expect(everyInterleaving({ ...seed('lease'), strategy: { kind: 'exhaustive', reduction: 'none' } })).resolves.toEqual({ schedules: 15, complete: true, strategy: 'exhaustive' });
  });

  it('explores the same schedules and reports the same failure on 20 consecutive runs', async () => {
    const runs: string[] = [];
    for (let i = 0; i < 20; i++) {
      const seen: string[] = [];
      const scenario = seed('cache-aside');
      const e = await failure(
        everyInterleaving({
          ...scenario,
          strategy: { kind: 'exhaustive' },
          check: async (args) => {
            seen.push(args.steps.map((s) => `${s.actor}:${s.command}`).join(' '));
            await scenario.check!(args);
          },
        }),
      );
      runs.push(`${seen.join('\n')}\n---\n${e.report}`);
    }
    expect(new Set(runs).size).toBe(1);
    // Also the schedules of a complete, passing exploration.
    const lists: string[] = [];
    for (let i = 0; i < 20; i++) {
      const seen: string[] = [];
      const scenario = seed('lease');
      await everyInterleaving({ ...scenario, check: async (args) => void seen.push(args.timeline) });
      lists.push(seen.join('\n\n'));
    }
    expect(new Set(lists).size).toBe(1);
    // 6 classes, then 4 trace checks.
    expect(lists[0]!.split('\n\n')).toHaveLength(10);
  });

  it('replay(token) reruns exactly that order and reports the same failure', async () => {
    const e = await failure(everyInterleaving(seed('cache-aside')));
    const again = await failure(replay(e.token, seed('cache-aside')));
    expect(again.token).toBe(e.token);
    expect(again.report.slice(again.report.indexOf('The check failed'))).toBe(e.report.slice(e.report.indexOf('The check failed')));
    // The fixed service passes the order that broke the old one.
    await expect(replay(e.token, seed('lease'))).rejects.toThrow(ScheduleReplayMismatchError);
    await expect(replay('r1:writer*2,reader*3', seed('cache-aside'))).resolves.toEqual({ schedules: 1, complete: false, strategy: 'replay' });
  });

  it('a token that does not fit the scenario is a clear error', async () => {
    await expect(replay('r1:writer*3', seed('cache-aside'))).rejects.toThrow(/SCHEDULE_REPLAY_MISMATCH|does not fit this scenario at step 3/);
    await expect(replay('r1:reader*2', seed('cache-aside'))).rejects.toThrow(/the token ends, but steps are still pending/);
    await expect(replay('nope', seed('cache-aside'))).rejects.toThrow(InvalidRaceScenarioError);
    await expect(replay('r1:ghost', seed('cache-aside'))).rejects.toThrow(/names actors "ghost"/);
  });

  it('one reader and two writers of 3, 2 and 2 steps: 210 orders', async () => {
    let inconsistent = 0;
    const summary = await everyInterleaving({
      ...seed('cache-aside'),
      strategy: { kind: 'exhaustive', reduction: 'none' },
      actors: {
        reader: ({ redis, db }) => new UserCache(db, redis).getUser(1),
        writer1: ({ redis, db }) => new UserCache(db, redis).updateUser(1, 'Jerry'),
        writer2: ({ redis, db }) => new UserCache(db, redis).updateUser(1, 'Spike'),
      },
      check: async ({ redis, db }) => {
        await expect(redis)
          .toBeConsistentWith(db, [userById])
          .catch(() => inconsistent++);
      },
    });
    expect(summary).toEqual({ schedules: 210, complete: true, strategy: 'exhaustive' });
    expect(inconsistent).toBeGreaterThan(0);
  });

  it('the lease passes all 420 orders of one reader (4 steps) and two writers', async () => {
    const scenario = seed('lease');
    const summary = await everyInterleaving({
      ...scenario,
      strategy: { kind: 'exhaustive', reduction: 'none' },
      actors: {
        reader: scenario.actors.reader!,
        writer1: ({ redis, db }) => new LeaseUserCache(db, redis).updateUser(1, 'Jerry'),
        writer2: ({ redis, db }) => new LeaseUserCache(db, redis).updateUser(1, 'Spike'),
      },
    });
    expect(summary).toEqual({ schedules: 420, complete: true, strategy: 'exhaustive' });
  });

  it('a preemption bound explores fewer schedules; bound 0 misses docs/races.md #1, bound 1 finds it', async () => {
    const bounded = await everyInterleaving({ ...seed('cache-aside'), strategy: { kind: 'exhaustive', preemptionBound: 0 } });
    expect(bounded).toEqual({ schedules: 2, complete: true, strategy: 'exhaustive (preemption bound 0)' });
    const e = await failure(everyInterleaving({ ...seed('cache-aside'), strategy: { kind: 'exhaustive', preemptionBound: 1 } }));
    expect(e.token).toBe('r1:reader*2,writer*2,reader');
  });

  it('random and PCT strategies find it from a seed, and shrink to the same schedule', async () => {
    const r = await failure(everyInterleaving({ ...seed('cache-aside'), strategy: { kind: 'random', seed: 7, runs: 200 } }));
    const p = await failure(everyInterleaving({ ...seed('cache-aside'), strategy: { kind: 'pct', seed: 7, runs: 200, depth: 2 } }));
    expect(r.token).toBe('r1:reader*2,writer*2,reader');
    expect(p.token).toBe('r1:reader*2,writer*2,reader');
    const passed = await everyInterleaving({ ...seed('lease'), strategy: { kind: 'pct', seed: 3, runs: 25 } });
    expect(passed).toEqual({ schedules: 25, complete: false, strategy: 'pct (seed 3, 25 runs, depth 3)' });
  });

  it('starts every schedule from the state before the call (Redis and database)', async () => {
    const redis = testRedis();
    const db = testDb();
    await redis.set('kept', 'before', 'PX', 600_000);
    await db.query(`INSERT INTO users (id, name) VALUES (2, 'Before')`);
    const seen: string[] = [];
    await everyInterleaving({
      actors: {
        a: async ({ redis, db }) => {
          await redis.set('kept', 'a');
          await db.query(`UPDATE users SET name = 'A' WHERE id = 2`);
        },
        b: async ({ redis, db }) => {
          seen.push(`${await redis.get('kept')} ${(await db.query('SELECT name FROM users WHERE id = 2'))[0]!.name}`);
        },
      },
    });
    expect([...new Set(seen)].sort()).toEqual(['a A', 'a Before', 'before A', 'before Before']);
    // 4 of the 6 orders are distinct (a's SET and b's SELECT commute, so do a's UPDATE and b's GET); then 2 trace
    // checks, orders equivalent to two of them, reach the same states.
    expect(seen).toHaveLength(6);
  });

  it('works with a node-redis client', async () => {
    const client = createClient({ url: redisUrl() });
    await client.connect();
    try {
      const e = await failure(
        everyInterleaving({
          redis: client,
          actors: {
            reader: async ({ redis, db }) => {
              if ((await redis.get('user:1')) !== null) return;
              const [row] = await db.query('SELECT id, name, email FROM users WHERE id = 1');
              await redis.set('user:1', JSON.stringify(row));
            },
            writer: async ({ redis, db }) => {
              await db.query(`UPDATE users SET name = 'Jerry' WHERE id = 1`);
              await redis.del('user:1');
            },
          },
          setup: ({ db }) => db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
          check: async ({ redis, db }) => {
            await expect(redis).toBeConsistentWith(db, [userById]);
          },
        }),
      );
      expect(e.token).toBe('r1:reader*2,writer*2,reader');
      expect(e.report).toContain('redis SET user:1 {"id":1,"name":"Tom","email":null} -> OK');
    } finally {
      await client.close();
    }
  });

  it("flushes only the preset's own server: another one needs allowFlush", async () => {
    const { path: binary } = await findRedisServerBinary();
    const server = await startRedisServer({ binary });
    const other = new Redis(server.url);
    try {
      await other.set('precious', 'data');
      const scenario = { redis: other, actors: { a: async ({ redis }: { redis: Redis }) => redis.get('x') } };
      await expect(everyInterleaving(scenario)).rejects.toMatchObject({ code: 'RACE_REDIS_NOT_OWNED' });
      expect(await other.get('precious')).toBe('data');
      // With allowFlush, the state before the call (here: the precious key) is restored after every schedule.
      await expect(everyInterleaving({ ...scenario, allowFlush: true })).resolves.toMatchObject({ schedules: 1 });
      expect(await other.get('precious')).toBe('data');
    } finally {
      await other.quit();
      await server.stop();
    }
  });

  it('rejects a malformed scenario with a clear error', async () => {
    await expect(everyInterleaving({} as Scenario)).rejects.toThrow(/Invalid race option actors/);
    await expect(everyInterleaving({ actors: {} })).rejects.toThrow(/at least one actor/);
    await expect(everyInterleaving({ actors: { a: 1 as never } })).rejects.toThrow(/actors\.a: must be a function|actors.a/);
    await expect(everyInterleaving({ actors: { a: async () => {} }, strategy: { kind: 'dfs' } as never })).rejects.toThrow(/strategy/);
    await expect(everyInterleaving({ actors: { a: async () => {} }, strategy: { kind: 'random', runs: 0 } })).rejects.toThrow(/strategy.runs/);
    await expect(everyInterleaving({ actors: { a: async () => {} }, faults: [{ actor: 'b', at: { redis: 'DEL' } }] })).rejects.toThrow(/faults\[0\]\.actor/);
  });
});
