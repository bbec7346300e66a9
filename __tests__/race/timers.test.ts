import { setTimeout as sleep } from 'node:timers/promises';
import { everyInterleaving, RaceFailureError } from '../../src';

describe('timers inside actors are steps (virtual time)', () => {
  it('an hour-long sleep costs nothing and is ordered like any step', async () => {
    const seen: string[] = [];
    const summary = await everyInterleaving({
      strategy: { kind: 'exhaustive', reduction: 'none' }, // counts every order: brute force
      actors: {
        sleeper: async ({ redis }) => {
          await redis.set('k', 'before');
          await new Promise((resolve) => setTimeout(resolve, 3_600_000));
          await redis.set('k', 'after');
        },
        other: async ({ redis }) => redis.get('k'),
      },
      check: ({ steps }) => void seen.push(steps.map((s) => `${s.actor}: ${s.label}`).join('\n')),
    });
    // sleeper: SET, timer, SET (3 steps) against other's 1 step: 4 orders.
    expect(summary.schedules).toBe(4);
    expect(seen[0]).toBe(['sleeper: redis SET k before -> OK', 'sleeper: timer sleep 3600000ms -> fired', 'sleeper: redis SET k after -> OK', 'other: redis GET k -> after'].join('\n'));
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
});
