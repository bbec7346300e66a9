import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'tarn';
import { Pool as SequelizePool } from 'sequelize-pool';
import { retryAsPromised } from 'retry-as-promised';
import _ from 'lodash';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { delay } = require('tarn/dist/utils') as { delay(ms: number): Promise<void> };
import { everyInterleaving, InvalidRaceScenarioError, RaceActorOutlivedError, RaceFailureError } from '../../src';

describe('timers inside actors are steps (virtual time)', () => {
  it("the service's own sleep costs nothing and is ordered like any step, however long: time is not a lock", async () => {
    const seen: string[] = [];
    const summary = await everyInterleaving({
      strategy: { kind: 'exhaustive', reduction: 'none' }, // counts every order: brute force
      actors: {
        sleeper: async ({ redis }) => {
          await redis.set('k', 'before');
          await new Promise((resolve) => setTimeout(resolve, 3_600_000)); // an hour: still not a timeout (not a library's)
          await redis.set('k', 'after');
        },
        other: async ({ redis }) => redis.get('k'),
      },
      check: ({ steps }) => void seen.push(steps.map((s) => `${s.actor}: ${s.label}`).join('\n')),
    });
    // sleeper: SET, timer, SET (3 steps) against other's 1 step: 4 orders.
    expect(summary.schedules).toBe(4);
    expect(seen[0]).toBe(['sleeper: redis SET k before -> OK', 'sleeper: timer sleep 3600000ms -> fired', 'sleeper: redis SET k after -> OK', 'other: redis GET k -> after'].join('\n'));
    expect(seen).toContain(['sleeper: redis SET k before -> OK', 'other: redis GET k -> before', 'sleeper: timer sleep 3600000ms -> fired', 'sleeper: redis SET k after -> OK'].join('\n'));
  });

  it("another library's long timer (a retry library's 6 s backoff) stays an ordinary step: only drivers, pools and ORMs have timeouts", async () => {
    // The retry waits 6 s before trying again: in some order the other actor's SET comes only after the retry.
    const outcomes = new Set<string>();
    await everyInterleaving({
      strategy: { kind: 'exhaustive', reduction: 'none' },
      actors: {
        poller: async ({ redis }) =>
          retryAsPromised(
            async () => {
              if ((await redis.get('go')) === null) throw new Error('not yet');
            },
            { max: 2, backoffBase: 6000, backoffExponent: 1 },
          ).then(
            () => 'ok',
            () => 'gave up',
          ),
        starter: async ({ redis }) => redis.set('go', '1'),
      },
      check: ({ outcomes: o }) => void outcomes.add(String((o.poller as { value: unknown }).value)),
    });
    expect(outcomes).toEqual(new Set(['ok', 'gave up']));
  });

  describe('no false green from timeouts: a delayed double delete whose second delete waits for a timer', () => {
    // Redis only: `db` stands for the row. The bug: the reader's stale SET lands after the second delete.
    const reader = async ({ redis }: { redis: import('ioredis').Redis }) => {
      const c = await redis.get('cache');
      if (c !== null) return c;
      const v = await redis.get('db');
      await redis.set('cache', v!);
      return v;
    };
    const caughtWith = (writer: (a: { redis: import('ioredis').Redis }) => Promise<void>) =>
      everyInterleaving({
        strategy: { kind: 'exhaustive', reduction: 'none' },
        actors: { reader, writer },
        setup: async ({ redis }) => void (await redis.set('db', 'old')),
        check: async ({ redis }) => {
          const [c, d] = [await redis.get('cache'), await redis.get('db')];
          if (c !== null && c !== d) throw new Error(`stale cache ${c} (db ${d})`);
        },
      }).then(
        (summary) => `passed (${summary.schedules} schedules)`,
        (e: unknown) => (e instanceof RaceFailureError ? 'caught' : String(e)),
      );

    it('the sleep through a helper package (lodash _.delay, 6 s) is caught', async () => {
      await expect(
        caughtWith(async ({ redis }) => {
          await redis.set('db', 'new');
          await redis.del('cache');
          await new Promise((resolve) => _.delay(resolve, 6000));
          await redis.del('cache');
        }),
      ).resolves.toBe('caught');
    });

    it("a pool's timeout pending in the same actor (an idle timer, 10 s) does not hold back the service's own 12 s sleep", async () => {
      await expect(
        caughtWith(async ({ redis }) => {
          await redis.set('db', 'new');
          void delay(10_000); // tarn's: a timeout, as a pool's idle timer armed when a connection is given back
          await redis.del('cache');
          await sleep(12_000);
          await redis.del('cache');
        }),
      ).resolves.toBe('caught');
    });

    it('bound callbacks (all "[native code]") are not taken for a timer re-arming itself', async () => {
      await expect(
        caughtWith(async ({ redis }) => {
          await redis.set('db', 'new');
          await new Promise<void>((done) => {
            const second = () => void redis.del('cache').then(() => done());
            const first = () => {
              void redis.del('cache');
              setTimeout(second.bind(null), 500);
            };
            setTimeout(first.bind(null), 0);
          });
        }),
      ).resolves.toBe('caught');
    });

    it("the service's own self-re-arming drain (one delete per tick) stays ordinary steps", async () => {
      await expect(
        caughtWith(async ({ redis }) => {
          await redis.set('db', 'new');
          await new Promise<void>((done) => {
            const queue = ['cache', 'cache'];
            const tick = () => {
              const k = queue.shift();
              if (k === undefined) return done();
              void redis.del(k);
              setTimeout(tick, 500);
            };
            setTimeout(tick, 0);
          });
        }),
      ).resolves.toBe('caught');
    });
  });

  describe("a pool's acquire timeout (tarn, Knex's pool): a timer of at least virtualTime.timeoutFromMs started by a library", () => {
    // A one-resource pool: the second actor's acquire waits for the first's release, under tarn's own 60 s timeout.
    const scenario = (options: { release: boolean; timeoutFromMs?: number; strategy?: 'verify' }) => {
      const outcomes: string[] = [];
      let pool: Pool<object> | undefined;
      const actor = (name: string) => async ({ redis }: { redis: import('ioredis').Redis }) => {
        const resource = await pool!.acquire().promise;
        await redis.get('k');
        await redis.set('k', name);
        if (options.release) pool!.release(resource);
      };
      return {
        outcomes,
        run: everyInterleaving({
          strategy: { kind: 'exhaustive', reduction: options.strategy ?? 'none' },
          ...(options.timeoutFromMs !== undefined ? { virtualTime: { timeoutFromMs: options.timeoutFromMs } } : {}),
          actors: { a: actor('a'), b: actor('b') },
          setup: async () => {
            // A pool whose resource was never released would wait for it: let that one go.
            if (options.release) await pool?.destroy();
            else void pool?.destroy().catch(() => undefined);
            pool = new Pool({ create: async () => ({}), destroy: () => undefined, min: 0, max: 1, acquireTimeoutMillis: 60_000 });
          },
          check: ({ outcomes: o }) => void outcomes.push(['a', 'b'].map((n) => (o[n]!.ok ? 'ok' : (o[n] as { error: Error }).error.constructor.name)).join('/')),
        }).finally(() => (options.release ? pool?.destroy() : void pool?.destroy().catch(() => undefined))),
      };
    };

    it('never fires while the holder still has steps to take', async () => {
      const healthy = scenario({ release: true });
      await healthy.run;
      expect(new Set(healthy.outcomes)).toEqual(new Set(['ok/ok']));
    });

    it('fires once nothing else can run (the holder never releases): the waiter gets its TimeoutError, not RACE_ACTOR_STUCK', async () => {
      const stuck = scenario({ release: false });
      const e = await stuck.run.catch((err: unknown) => err);
      expect(e).toBeInstanceOf(RaceFailureError);
      expect(stuck.outcomes.length).toBeGreaterThan(0);
      for (const o of stuck.outcomes) expect(o.split('/').sort()).toEqual(['TimeoutError', 'ok']);
    });

    it('the reduced search reaches the same final states as brute force (reduction: verify)', async () => {
      const verified = scenario({ release: true, strategy: 'verify' });
      await expect(verified.run).resolves.toMatchObject({ complete: true, verified: { states: expect.any(Number) } });
      expect(new Set(verified.outcomes)).toEqual(new Set(['ok/ok']));
    });

    it('two timeouts that can fire at once are explored in both orders by the reduced search (verify)', async () => {
      // h takes the pool's only resource and keeps it; x and y wait for it; once h is done, both timeouts may fire,
      // and each waiter then writes k: the last one wins. Were timeouts independent, one order would be skipped.
      let pool: Pool<object> | undefined;
      const finals = new Set<string>();
      const waiter = (name: string) => async ({ redis }: { redis: import('ioredis').Redis }) => {
        await pool!.acquire().promise.catch(() => undefined);
        await redis.set('k', name);
      };
      const summary = await everyInterleaving({
        strategy: { kind: 'exhaustive', reduction: 'verify' },
        actors: { h: async ({ redis }) => void (await pool!.acquire().promise, await redis.get('k')), x: waiter('x'), y: waiter('y') },
        setup: () => {
          void pool?.destroy().catch(() => undefined);
          pool = new Pool({ create: async () => ({}), destroy: () => undefined, min: 0, max: 1, acquireTimeoutMillis: 60_000 });
        },
        check: async ({ redis }) => void finals.add(String(await redis.get('k'))),
      }).finally(() => void pool?.destroy().catch(() => undefined));
      expect(summary).toMatchObject({ complete: true, verified: { states: 2 } });
      expect(finals).toEqual(new Set(['x', 'y']));
    });

    it('with timeoutFromMs: Infinity it is an ordinary step, and some order fires it before the holder is done', async () => {
      const eager = scenario({ release: true, timeoutFromMs: Infinity });
      await eager.run.catch(() => undefined);
      expect(eager.outcomes.some((o) => o.includes('TimeoutError'))).toBe(true);
    });
  });

  it("sequelize-pool (Sequelize's pool) shared by two actors: its acquire timeout never fires early, its reaper re-arms without looping, and reaps for real after the race", async () => {
    let pool: SequelizePool<{ id: number }> | undefined;
    let created = 0;
    const outcomes: string[] = [];
    let reaped!: () => void;
    const reapedForReal = new Promise<void>((resolve) => (reaped = resolve));
    let raceOver = false;
    const actor = (name: string) => async ({ redis }: { redis: import('ioredis').Redis }) => {
      const resource = await pool!.acquire();
      await redis.get('k');
      await redis.set('k', name);
      pool!.release(resource); // schedules the reaper: setTimeout(removeIdle, 20), re-armed from it while a resource is idle
    };
    const fresh = () =>
      new SequelizePool({
        name: 'test',
        create: async () => ({ id: ++created }),
        destroy: async () => void (raceOver && reaped()),
        validate: () => true,
        max: 1,
        min: 0,
        acquireTimeoutMillis: 60_000,
        idleTimeoutMillis: 30,
        reapIntervalMillis: 20,
      });
    const summary = await everyInterleaving({
      strategy: { kind: 'exhaustive', reduction: 'none' },
      actors: { a: actor('a'), b: actor('b') },
      setup: async () => {
        if (pool) await pool.destroyAllNow();
        pool = fresh();
      },
      check: ({ outcomes: o, steps }) => {
        outcomes.push(['a', 'b'].map((n) => (o[n]!.ok ? 'ok' : String((o[n] as { error: unknown }).error))).join('/'));
        // The reaper's first tick is a step of the actor that released; its re-arm is a timeout, never a step.
        expect(steps.filter((s) => s.kind === 'timer').length).toBeLessThanOrEqual(2);
      },
    });
    raceOver = true;
    expect(summary.complete).toBe(true);
    expect(new Set(outcomes)).toEqual(new Set(['ok/ok']));
    // The last schedule's re-armed reaper left the race as a real timer: on real time it destroys the idle resource.
    await reapedForReal;
    await pool!.destroyAllNow();
  });

  it('Date.now(), new Date() and Date() inside actors read the schedule clock, which moves to each timer as it fires', async () => {
    const start = Date.UTC(2030, 0, 1);
    const seen: string[] = [];
    const before = Date.now();
    await everyInterleaving({
      strategy: { kind: 'exhaustive', reduction: 'none' },
      virtualTime: { start: new Date(start) },
      actors: {
        a: async ({ redis }) => {
          const t0 = Date.now();
          await sleep(500);
          const t1 = new Date().getTime();
          await new Promise((resolve) => setTimeout(resolve, 250));
          await redis.set('t', `${t0 - start} ${t1 - start} ${Date.now() - start} ${Date() === new Date(start + 750).toString()}`);
        },
        b: async ({ redis }) => {
          await redis.get('x');
          await redis.set('b', String(Date.now() - start)); // read when its GET's reply arrives
        },
      },
      check: async ({ redis }) => void seen.push(`${await redis.get('t')} / ${await redis.get('b')}`),
    });
    expect(new Set(seen)).toEqual(new Set(['0 500 750 true / 0', '0 500 750 true / 500', '0 500 750 true / 750']));
    // Outside actors, time is real.
    expect(Date.now()).toBeGreaterThanOrEqual(before);
  });

  it("the scenario's setup runs on the schedule's clock too (its start): a timestamp written in setup is never in the actors' future", async () => {
    const ages = new Set<string>();
    let checkedAt = 0;
    const before = Date.now();
    await everyInterleaving({
      strategy: { kind: 'exhaustive', reduction: 'none' },
      virtualTime: { start: 1_000_000 },
      setup: async ({ redis }) => void (await redis.set('stamp', String(Date.now()))),
      actors: {
        a: async ({ redis }) => {
          const stamp = Number(await redis.get('stamp'));
          await sleep(250);
          ages.add(`${Date.now() - stamp}`);
        },
        b: async ({ redis }) => redis.set('other', '1'),
      },
      check: () => void (checkedAt = Date.now()),
    });
    expect(ages).toEqual(new Set(['250']));
    expect(checkedAt).toBeGreaterThanOrEqual(before); // the check runs on real time: it may wait with a deadline of its own
  });

  it("an actor's own timers fire in the order of their deadlines", async () => {
    const seen: string[] = [];
    const summary = await everyInterleaving({
      strategy: { kind: 'exhaustive', reduction: 'none' },
      actors: {
        a: async ({ redis }) => {
          const fired: string[] = [];
          await Promise.all([sleep(300).then(() => fired.push('late')), sleep(100).then(() => fired.push('early'))]);
          await redis.set('order', fired.join(','));
        },
        b: async ({ redis }) => redis.set('b', 'b'),
      },
      check: async ({ redis, steps }) => void seen.push(`${await redis.get('order')} ${steps.map((s) => s.actor + ':' + s.command).join(' ')}`),
    });
    expect(seen.length).toBe(summary.schedules);
    expect(summary.schedules).toBe(4); // a: two timers, one at a time, then SET; b: SET
    for (const order of seen) expect(order).toMatch(/^early,late /);
  });

  it('a timeout still pending when every actor has finished leaves the schedule and fires for real', async () => {
    let started = false;
    let fired!: () => void;
    const firedForReal = new Promise<void>((resolve) => (fired = resolve));
    const labels: string[] = [];
    await everyInterleaving({
      virtualTime: { timeoutFromMs: 20 },
      actors: {
        a: async ({ redis }) => {
          // A library's timer (tarn's delay helper: code under node_modules), an idle timer say.
          if (!started) void delay(20).then(() => fired());
          started = true;
          await redis.set('k', 'v');
        },
      },
      check: ({ steps }) => void labels.push(steps.map((s) => s.label).join(' | ')),
    });
    expect(labels).toEqual(['redis SET k v -> OK']);
    await firedForReal;
  });

  it("timers/promises' setTimeout is virtual too, and a cleared timer never fires", async () => {
    const seen: string[] = [];
    await everyInterleaving({
      actors: {
        a: async ({ redis }) => {
          const never = setTimeout(() => void redis.del('k'), 10);
          clearTimeout(never);
          await sleep(500);
          await redis.set('k', 'a');
        },
      },
      check: ({ steps }) => void seen.push(steps.map((s) => s.label).join(' | ')),
    });
    expect(seen).toEqual(['timer sleep 500ms -> fired | redis SET k a -> OK']);
  });

  it('a fire-and-forget timer runs after its actor returned, as a step of that actor', async () => {
    const seen: string[] = [];
    const summary = await everyInterleaving({
      strategy: { kind: 'exhaustive', reduction: 'none' }, // counts every order: brute force
      actors: {
        writer: async ({ redis }) => {
          await redis.del('k');
          setTimeout(() => void redis.del('k'), 500); // the second delete of a "delayed double delete"
        },
        reader: async ({ redis }) => redis.set('k', 'v'),
      },
      check: ({ steps }) => void seen.push(steps.map((s) => `${s.actor[0]}:${s.command}`).join(' ')),
    });
    expect(summary.schedules).toBe(4 + 4 - 4); // 3 writer steps (DEL, timer, DEL) and 1 reader step: 4 orders
    expect(seen).toEqual(['w:DEL w:SLEEP w:DEL r:SET', 'w:DEL w:SLEEP r:SET w:DEL', 'w:DEL r:SET w:SLEEP w:DEL', 'r:SET w:DEL w:SLEEP w:DEL']);
  });

  it('a timer callback that throws fails the run', async () => {
    const e = await everyInterleaving({
      actors: {
        a: async () => {
          setTimeout(() => {
            throw new Error('late failure');
          }, 5);
        },
      },
    }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(RaceFailureError);
    expect((e as Error).message).toContain('A timer callback of "a" threw (timer sleep 5ms -> !late failure):\n  late failure');
  });

  it('virtualTime options are checked', async () => {
    const actors = { a: async () => undefined };
    await expect(everyInterleaving({ actors, virtualTime: { timeoutFromMS: 10 } as never })).rejects.toThrow(InvalidRaceScenarioError);
    await expect(everyInterleaving({ actors, virtualTime: { timeoutFromMS: 10 } as never })).rejects.toThrow(/virtualTime\.timeoutFromMS.*timeoutFromMs/);
    await expect(everyInterleaving({ actors, virtualTime: { timeoutFromMs: 0 } })).rejects.toThrow(/virtualTime\.timeoutFromMs/);
    await expect(everyInterleaving({ actors, virtualTime: { start: new Date('nope') } })).rejects.toThrow(/virtualTime\.start/);
  });
});
