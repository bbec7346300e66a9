import { promises as fs } from 'node:fs';
import Redis from 'ioredis';
import {
  everyInterleaving,
  RaceActorOutlivedError,
  bindToActors,
  RaceActorStuckError,
  race,
  testRedis,
  RaceFailureError,
  RaceStepStalledError,
  RaceUninstrumentedIoError,
  redisUrl,
  replay,
  type Scenario,
} from '../../src';

// Captured before any race: a real timer, which the race cannot make virtual.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const realSleep: (ms: number, value?: unknown, options?: { ref?: boolean; signal?: AbortSignal }) => Promise<unknown> = require('node:timers/promises').setTimeout;

async function rejection(p: Promise<unknown>): Promise<Error> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof Error)) throw new Error('expected a rejection');
  return e;
}

describe('actors that misbehave', () => {
  it('an actor that throws fails the run, and the report shows it', async () => {
    const e = await rejection(
      everyInterleaving({
        actors: {
          a: async ({ redis }) => {
            await redis.get('k');
            throw new TypeError('boom in a');
          },
          b: async ({ redis }) => redis.set('k', 'v'),
        },
      }),
    );
    expect(e).toBeInstanceOf(RaceFailureError);
    expect(e.message).toContain('Actor "a" failed (no fault was injected into it):\n  TypeError: boom in a');
    expect(e.message).toContain('a  threw TypeError: boom in a');
  });

  it('an actor that never finishes is reported as stuck, with its last step, never a hang', async () => {
    const e = await rejection(
      everyInterleaving({
        actors: {
          a: async ({ redis }) => {
            await redis.get('k');
            await new Promise(() => {});
          },
          b: async ({ redis }) => redis.set('k', 'v'),
        },
      }),
    );
    expect(e).toBeInstanceOf(RaceActorStuckError);
    expect(e.message).toContain('Actor "a" never finishes');
    expect(e.message).toMatch(/a: its last step was \d `redis GET k -> (null|v)`/);
    expect(e.message).toContain('The schedule so far:');
  });

  it('an actor blocked on another actor (an in-process promise) waits for it; every order is explored', async () => {
    let release!: () => void;
    let shared!: Promise<void>;
    const seen: string[] = [];
    const scenario: Scenario = {
      setup: () => {
        shared = new Promise<void>((resolve) => (release = resolve));
      },
      actors: {
        waiter: async ({ redis }) => {
          await redis.get('a');
          await shared;
          await redis.get('b');
        },
        producer: async ({ redis }) => {
          await redis.set('b', '1');
          release();
          await redis.set('c', '1');
        },
      },
      check: ({ steps }) => void seen.push(steps.map((s) => `${s.actor[0]}:${s.command}`).join(' ')),
    };
    // The reduced search: SET b before GET b is the only order that matters, and it is forced: one class.
    expect(await everyInterleaving(scenario)).toMatchObject({ complete: true, classes: 1 });
    seen.length = 0;
    const summary = await everyInterleaving({ ...scenario, strategy: { kind: 'exhaustive', reduction: 'none' } });
    // waiter's second GET can only come after producer's SET b: 3 orders for the first two steps x the rest.
    expect(seen.every((s) => s.indexOf('w:GET', s.indexOf('p:SET')) > 0)).toBe(true);
    expect(summary.schedules).toBe(seen.length);
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toMatchSnapshot();
  });

  it('an actor awaiting its own real timer or file read is waited for, so the order stays the same', async () => {
    const runs: string[] = [];
    for (let i = 0; i < 3; i++) {
      const seen: string[] = [];
      await everyInterleaving({
        actors: {
          a: async ({ redis }) => {
            await redis.get('x');
            await realSleep(2);
            await fs.readFile(__filename);
            await new Promise((resolve) => setImmediate(resolve));
            await redis.set('x', 'a');
          },
          b: async ({ redis }) => redis.set('x', 'b'),
        },
        check: ({ timeline }) => void seen.push(timeline),
      });
      runs.push(seen.join('\n'));
    }
    expect(new Set(runs).size).toBe(1);
    expect(runs[0]!.split('\n #').length).toBeGreaterThan(0);
    expect(runs[0]).not.toContain('timer');
  });

  it('work of its own that never completes is a clear RACE_STEP_STALLED after stallTimeoutMs', async () => {
    const abandoned = new AbortController();
    const e = await rejection(
      everyInterleaving({
        stallTimeoutMs: 50,
        actors: {
          a: async ({ redis }) => {
            await redis.get('x');
            await realSleep(60_000, undefined, { ref: false, signal: abandoned.signal });
          },
        },
      }),
    );
    abandoned.abort();
    expect(e).toBeInstanceOf(RaceStepStalledError);
    expect(e.message).toContain('a: work the actor started outside its steps (Timeout) did not complete within 50 ms');
  });

  it('a connection opened inside an actor is RACE_UNINSTRUMENTED_IO', async () => {
    const opened: Redis[] = [];
    const e = await rejection(
      everyInterleaving({
        actors: {
          a: async ({ redis }) => {
            await redis.get('x');
            const own = new Redis(redisUrl());
            opened.push(own);
            await own.get('x');
          },
        },
      }),
    );
    await Promise.all(opened.map((c) => c.quit().catch(() => c.disconnect())));
    expect(e).toBeInstanceOf(RaceUninstrumentedIoError);
    expect(e.message).toMatch(/Actor "a" (opened a network connection|sent GET over a Redis client)/);
  });

  it('a module-level client that is not bound is bound on first use: its command is a step of the actor, on its own connection', async () => {
    const moduleClient = new Redis(redisUrl());
    try {
      await moduleClient.ping();
      const summary = await everyInterleaving({
        actors: {
          a: async ({ redis }) => {
            await redis.get('x');
            await moduleClient.set('x', 'from a module client');
            return moduleClient.client('GETNAME');
          },
          b: async ({ redis }) => redis.get('x'),
        },
        check: ({ steps, outcomes }) => {
          expect(steps.filter((s) => s.actor === 'a').map((s) => s.description)).toEqual(['redis GET x', 'redis SET x "from a module client"', 'redis CLIENT GETNAME']);
          // Over the actor's own connection (named for it), not the module client's.
          expect(outcomes.a).toEqual({ ok: true, value: 'race:a' });
        },
      });
      expect(summary).toMatchObject({ complete: true });
      // Outside the race the client is its own again.
      expect(await moduleClient.set('y', '1')).toBe('OK');
      expect(await moduleClient.client('GETNAME')).toBeNull();
    } finally {
      await moduleClient.quit();
    }
  });

  it('setInterval inside an actor is a real interval outside the race (a pool reaper): never a step', async () => {
    const labels: string[] = [];
    let interval: ReturnType<typeof setInterval> | undefined;
    let ticked!: () => void;
    const tick = new Promise<void>((resolve) => (ticked = resolve));
    let refused: unknown;
    const summary = await everyInterleaving({
      actors: {
        a: async ({ redis }) => {
          interval ??= setInterval(() => {
            // A step from the interval is not this race's: refused, never run.
            redis.get('k').catch((e: unknown) => (refused = e));
            ticked();
          }, 5);
          await redis.set('k', 'v');
        },
      },
      check: ({ steps }) => void labels.push(steps.map((s) => s.label).join(' | ')),
    });
    expect(summary.schedules).toBe(1);
    expect(labels).toEqual(['redis SET k v -> OK']);
    await tick;
    clearInterval(interval);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(refused).toBeInstanceOf(RaceActorOutlivedError);
  });

  it('an actor with two steps in flight at once: each is a choice, and the token names them', async () => {
    const seen: string[] = [];
    const summary = await everyInterleaving({
      strategy: { kind: 'exhaustive', reduction: 'none' }, // counts every order: brute force
      actors: {
        a: async ({ redis }) => Promise.all([redis.get('p'), redis.get('q')]),
        b: async ({ redis }) => redis.set('p', '1'),
      },
      check: ({ steps }) => void seen.push(steps.map((s) => s.description).join(' | ')),
    });
    expect(summary.schedules).toBe(6);
    expect(new Set(seen).size).toBe(6);
    await expect(replay('r1:a~1,b,a', { actors: { a: async ({ redis }) => Promise.all([redis.get('p'), redis.get('q')]), b: async ({ redis }) => redis.set('p', '1') } })).resolves.toMatchObject({ schedules: 1 });
  });
});

describe('a failed race leaves nothing running', () => {
  // A service's module-level client, bound to actors as docs/race.md shows: the path late writes took.
  let moduleClient: Redis;
  beforeAll(async () => {
    moduleClient = bindToActors(new Redis(redisUrl()));
    await moduleClient.ping();
  });
  afterAll(async () => {
    await moduleClient.quit();
  });

  /** An actor that waits on a promise the race cannot see, then writes through the module client. */
  function lateWriter(key: string) {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let report!: (outcome: unknown) => void;
    const reported = new Promise<unknown>((resolve) => (report = resolve));
    let waiting!: () => void;
    const isWaiting = new Promise<void>((resolve) => (waiting = resolve));
    const actor = async () => {
      await moduleClient.get(key);
      waiting();
      await released;
      // The race is over by now: this SET must never reach Redis.
      await moduleClient.set(key, 'late').then(report, report);
    };
    return { actor, release, reported, isWaiting };
  }

  it('an actor that goes on after its race failed cannot write: its step is refused with RACE_ACTOR_OUTLIVED', async () => {
    const late = lateWriter('late:1');
    const e = await rejection(everyInterleaving({ actors: { a: late.actor } }));
    expect(e).toBeInstanceOf(RaceActorStuckError);
    late.release();
    const outcome = await late.reported;
    expect(outcome).toBeInstanceOf(RaceActorOutlivedError);
    expect((outcome as RaceActorOutlivedError).code).toBe('RACE_ACTOR_OUTLIVED');
    expect((outcome as Error).message).toContain('Actor "a" sent `redis SET late:1 late` after its race had ended; it was not run.');
    expect(await testRedis().get('late:1')).toBeNull();
  });

  it('work an actor left running when its schedule ended cannot write into the next schedule', async () => {
    // Schedule 1: a starts work it does not await (a fire-and-forget refresh) that waits on a promise the race
    // cannot see. Schedule 2's setup lets it go on.
    const late = lateWriter('k');
    let runs = 0;
    const summary = await everyInterleaving({
      strategy: { kind: 'exhaustive', reduction: 'none' }, // counts every order: brute force
      setup: () => {
        runs++;
        if (runs === 2) late.release();
      },
      actors: {
        a: async () => {
          if (runs === 1) void late.actor();
          else await moduleClient.get('k');
        },
        b: async () => {
          await moduleClient.get('other');
        },
      },
      check: async ({ redis }) => {
        if (runs !== 2) return;
        expect(await late.reported).toBeInstanceOf(RaceActorOutlivedError);
        expect(await redis.get('k')).toBeNull();
      },
    });
    expect(summary.schedules).toBe(2);
  });

  it('the next race in the same file starts from its own state: a late step of the failed one is not part of it', async () => {
    const late = lateWriter('k');
    await rejection(everyInterleaving({ actors: { a: late.actor } }));
    const seen: Array<string | null> = [];
    // The same actor name in the next race; the stale actor resumes while its first schedule runs.
    const summary = await everyInterleaving({
      setup: async ({ redis }) => {
        await redis.set('k', 'start');
      },
      actors: {
        a: async () => {
          late.release();
          seen.push(await moduleClient.get('k'));
        },
      },
      check: async ({ redis }) => {
        expect(await late.reported).toBeInstanceOf(RaceActorOutlivedError);
        expect(await redis.get('k')).toBe('start');
      },
    });
    expect(summary.schedules).toBe(1);
    expect(seen).toEqual(['start']);
  });

  it('race(): an actor still running when the race is closed cannot write afterwards', async () => {
    const r = race();
    const a = r.actor('a');
    const late = lateWriter('late:2');
    const running = a.run(late.actor);
    await late.isWaiting;
    await r.close();
    late.release();
    await running;
    expect(await late.reported).toBeInstanceOf(RaceActorOutlivedError);
    expect(await testRedis().get('late:2')).toBeNull();
  });
});
