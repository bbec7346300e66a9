/**
 * The partial-order-reduced search on real steps (docs/race.md#reduction): what it saves, that it reaches what
 * brute force reaches (reduction: 'verify', on this file's scenarios and on every example under examples/), and
 * that 'verify' catches the one thing the reduction cannot see: actors sharing state inside the process.
 */
import { join } from 'node:path';
import { everyInterleaving, InvalidRaceScenarioError, RaceFailureError, RaceReductionMismatchError, type Scenario } from '../../src';
import { UserCache } from '../../examples/services/cacheAside';
import { LeaseUserCache } from '../../examples/services/leaseCache';
import { spawnJest } from '../helpers/processes';

const ROOT = join(__dirname, '..', '..');

type Service = { getUser(id: number): Promise<unknown>; updateUser(id: number, name: string): Promise<void> };

function seed(make: (db: never, redis: never, actor: string) => Service, writers = 1): Scenario {
  const actors: Record<string, Scenario['actors'][string]> = { reader: ({ redis, db, actor }) => make(db as never, redis as never, actor).getUser(1) };
  for (let w = 1; w <= writers; w++) actors[`writer${w}`] = ({ redis, db, actor }) => make(db as never, redis as never, actor).updateUser(1, `Name${w}`);
  return {
    setup: ({ db }) => db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
    actors,
    check: async ({ redis }) => {
      const cached = await redis.get('user:1');
      if (cached !== null && !cached.includes('Name') && cached.includes('Tom')) throw new Error(`stale: ${cached}`);
    },
  };
}

const verify = { kind: 'exhaustive', reduction: 'verify' } as const;
const lease = (db: never, redis: never, actor: string) => new LeaseUserCache(db, redis, { token: () => actor });

describe('the reduced search on real steps', () => {
  it('cache-aside, one reader and one writer: 5 classes of the 10 orders, the same final states and the same failure', async () => {
    const e = await everyInterleaving({ ...seed((db, redis) => new UserCache(db, redis)), strategy: verify }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(RaceFailureError);
    expect((e as RaceFailureError).token).toBe('r1:reader*2,writer1*2,reader');
  });

  it('the lease, one reader and two writers: far fewer schedules than brute force, the same final states', async () => {
    const summary = await everyInterleaving({ ...seed(lease, 2), strategy: verify });
    expect(summary.complete).toBe(true);
    expect(summary.verified!.schedules).toBe(420);
    expect(summary.schedules).toBeLessThan(420 / 4);
    expect(summary.classes).toBeLessThanOrEqual(summary.schedules);
  }, 60_000); // a limit, not a timing assertion: 420 brute-force schedules take ~2 s idle, more on a loaded machine

  it("'verify' fails with RACE_REDUCTION_MISMATCH when actors share state in the process that the reduction cannot see", async () => {
    let order: string[] = [];
    const e = await everyInterleaving({
      setup: () => {
        order = [];
      },
      actors: {
        // Different keys: the reduction runs one order of these two steps. The check reads what they share in memory.
        a: async ({ redis }) => {
          await redis.get('x');
          order.push('a');
        },
        b: async ({ redis }) => {
          await redis.get('y');
          order.push('b');
        },
      },
      check: () => {
        if (order[0] === 'b') throw new Error('b ran first');
      },
      strategy: verify,
    }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(RaceReductionMismatchError);
    expect((e as RaceReductionMismatchError).code).toBe('RACE_REDUCTION_MISMATCH');
    expect((e as Error).message).toContain('the brute-force search fails (schedule r1:b,a) but the reduced search passes');
    // Brute force sees it.
    await expect(
      everyInterleaving({ setup: () => void (order = []), actors: { a: async ({ redis }) => void (await redis.get('x'), order.push('a')), b: async ({ redis }) => void (await redis.get('y'), order.push('b')) }, check: () => expect(order[0]).toBe('a'), strategy: { kind: 'exhaustive', reduction: 'none' } }),
    ).rejects.toThrow(RaceFailureError);
  });

  it('a misspelt reduction is refused, in the strategy and in the environment', async () => {
    await expect(everyInterleaving({ actors: { a: async () => {} }, strategy: { kind: 'exhaustive', reduction: 'dpr' as never } })).rejects.toThrow(/strategy\.reduction: 'dpor', 'none', 'verify'\. Did you mean 'dpor'\?/);
    process.env.JEST_CACHE_CONSISTENCY_REDUCTION = 'verfy';
    try {
      await expect(everyInterleaving({ actors: { a: async () => {} } })).rejects.toThrow(InvalidRaceScenarioError);
    } finally {
      delete process.env.JEST_CACHE_CONSISTENCY_REDUCTION;
    }
  });

  it('every example scenario in examples/ passes with JEST_CACHE_CONSISTENCY_REDUCTION=verify: reduced and brute force agree', async () => {
    const run = await spawnJest(ROOT, ['examples', '__tests__/fixtures/reduction', '--testPathIgnorePatterns', '/node_modules/', '--maxWorkers=1'], { JEST_CACHE_CONSISTENCY_REDUCTION: 'verify' }).done;
    const output = `${run.stdout}\n${run.stderr}`;
    expect({ code: run.code, mismatch: /RACE_REDUCTION_MISMATCH/.test(output) }).toEqual({ code: 0, mismatch: false });
    expect(output).toMatch(/Tests: +\d+ passed, \d+ total/);
    expect(output).toContain('PASS __tests__/fixtures/reduction/verified.test.ts');
  }, 120_000);
});
