/**
 * The scheduler core on fake steps (no Redis server, no database): ScheduleRun under each strategy, counted
 * against the interleavings enumerated by hand.
 */
import { NondeterministicScenarioError, ScheduleReplayMismatchError } from '../../../src/errors';
import { DfsExplorer, explorerFor, PctExplorer, RandomExplorer, ReplayExplorer } from '../../../src/race/schedule/strategies';
import { shrink } from '../../../src/race/schedule/shrink';
import { decodeToken, encodeToken } from '../../../src/race/schedule/token';
import { allInterleavings, runFake } from './fakeSteps';

const twoByTwo = { a: ['SET k a1', 'SET k a2'], b: ['GET k', 'SET k b1'] };

describe('exhaustive (DFS)', () => {
  test.each([
    [{ a: 2, b: 2 }, 6],
    [{ a: 3, b: 2 }, 10],
    [{ a: 1, b: 1, c: 1 }, 6],
    [{ a: 2, b: 1, c: 1 }, 12],
  ])('runs every interleaving of %j exactly once (%i schedules) and says it is complete', async (counts, expected) => {
    const actors = Object.fromEntries(Object.entries(counts).map(([n, k]) => [n, Array.from({ length: k }, (_, i) => `SET ${n} ${i}`)]));
    const explorer = new DfsExplorer();
    const run = await runFake(actors, explorer);
    expect(run.orders).toHaveLength(expected);
    expect(new Set(run.orders).size).toBe(expected);
    expect(new Set(run.orders)).toEqual(new Set(allInterleavings(counts).map((i) => i.order)));
    expect(explorer.complete).toBe(true);
  });

  test('tries the actor that ran last first: the first schedule runs each actor to its end', async () => {
    const run = await runFake(twoByTwo, new DfsExplorer());
    expect(run.orders[0]).toBe('a,a,b,b');
    expect(run.results[0]!.preemptions).toBe(0);
  });

  test.each([0, 1, 2])('preemptionBound %i runs exactly the schedules with at most that many preemptions', async (bound) => {
    const counts = { a: 3, b: 2 };
    const actors = { a: ['INCR x', 'INCR x', 'INCR x'], b: ['GET x', 'GET x'] };
    const run = await runFake(actors, new DfsExplorer({ preemptionBound: bound }));
    const want = allInterleavings(counts).filter((i) => i.preemptions <= bound).map((i) => i.order);
    expect(new Set(run.orders)).toEqual(new Set(want));
    expect(run.orders).toHaveLength(want.length);
    for (const r of run.results) expect(r.preemptions).toBeLessThanOrEqual(bound);
  });

  test('maxSchedules stops the search, which is then not complete', async () => {
    const explorer = new DfsExplorer({ maxSchedules: 4 });
    const run = await runFake(twoByTwo, explorer);
    expect(run.orders).toHaveLength(4);
    expect(explorer.complete).toBe(false);
  });

  test('a scenario whose steps differ between runs is refused with RACE_NONDETERMINISTIC', async () => {
    const flaky = { a: (run: number) => (run === 0 ? ['SET k 1', 'SET k 2'] : ['SET k 1', 'GET k']), b: ['GET k'] };
    const error = await runFake(flaky, new DfsExplorer()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NondeterministicScenarioError);
    expect((error as NondeterministicScenarioError).code).toBe('RACE_NONDETERMINISTIC');
  });
});

describe.each([
  ['random', (seed: number) => new RandomExplorer(seed, 20)],
  ['pct', (seed: number) => new PctExplorer(seed, 20, 3)],
])('%s', (_name, make) => {
  const actors = { a: ['SET k a1', 'SET k a2', 'SET k a3'], b: ['GET k', 'SET k b1', 'GET k'], c: ['SET k c1', 'GET k'] };

  test('the same seed runs the same schedules, in the same order', async () => {
    const first = await runFake(actors, make(7));
    const second = await runFake(actors, make(7));
    expect(first.orders).toHaveLength(20);
    expect(second.orders).toEqual(first.orders);
  });

  test('another seed runs other schedules', async () => {
    const first = await runFake(actors, make(7));
    const other = await runFake(actors, make(8));
    expect(other.orders).not.toEqual(first.orders);
  });

  test('every schedule it runs is a valid interleaving, and it never claims completeness', async () => {
    const explorer = make(3);
    const run = await runFake(actors, explorer);
    const valid = new Set(allInterleavings({ a: 3, b: 3, c: 2 }).map((i) => i.order));
    for (const o of run.orders) expect(valid.has(o)).toBe(true);
    expect(explorer.complete).toBe(false);
  });
});

describe('replay tokens', () => {
  test('every schedule of a search round-trips through its token and replays to the same steps', async () => {
    const search = await runFake(twoByTwo, new DfsExplorer());
    for (const result of search.results) {
      const token = encodeToken(result.choices);
      const choices = decodeToken(token);
      expect(choices).toEqual(result.choices);
      const again = await runFake(twoByTwo, new ReplayExplorer(token, choices as never));
      expect(again.results[0]!.records.map((r) => `${r.actor} ${r.label}`)).toEqual(result.records.map((r) => `${r.actor} ${r.label}`));
    }
  });

  test('actor names with the token\'s own characters survive the round trip', () => {
    const choices = [
      { actor: 'a,b', ordinal: 0 },
      { actor: 'a,b', ordinal: 0 },
      { actor: 'x~1 *:%', ordinal: 1 },
    ];
    expect(decodeToken(encodeToken(choices))).toEqual(choices);
    expect(encodeToken(choices)).toBe('r1:a%2Cb*2,x%7E1%20%2A%3A%25~1');
  });

  test('a token that does not fit the scenario is refused with SCHEDULE_REPLAY_MISMATCH', async () => {
    const token = 'r1:b*3,a*2';
    const error = await runFake(twoByTwo, new ReplayExplorer(token, decodeToken(token) as never)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ScheduleReplayMismatchError);
    expect((error as ScheduleReplayMismatchError).code).toBe('SCHEDULE_REPLAY_MISMATCH');
  });
});

describe('faults as data', () => {
  test('a fault rule fails the nth matching step of its actor, in every schedule, and marks the outcome as provoked', async () => {
    const run = await runFake(twoByTwo, new DfsExplorer(), {
      faults: [{ actor: 'a', at: { redis: 'SET' }, nth: 2, when: 'before', error: () => undefined }],
    });
    for (const result of run.results) {
      const faulted = result.records.filter((r) => r.fault !== undefined);
      expect(faulted.map((r) => `${r.actor} ${r.description}`)).toEqual(['a redis SET k a2']);
      expect(result.outcomes.a).toMatchObject({ ok: false, provoked: true });
    }
    // Never sent: no schedule ends with a2 in the store.
    for (const store of run.stores) expect(store.get('k')).not.toBe('a2');
  });
});

describe('shrink', () => {
  test('finds a failing schedule with fewer preemptions when there is one', async () => {
    const actors = { a: ['SET k a1', 'SET k a2', 'SET k a3'], b: ['SET k b1', 'SET k b2'] };
    // "Fails" when b's first write comes after a's first and before a's last: needs at least one preemption.
    const fails = (order: string) => {
      const s = order.split(',');
      const firstB = s.indexOf('b');
      return firstB > 0 && s.lastIndexOf('a') > firstB;
    };
    const search = await runFake(actors, new DfsExplorer());
    const worst = search.results.filter((r) => fails(r.choices.map((c) => c.actor).join(','))).sort((x, y) => y.preemptions - x.preemptions)[0]!;
    expect(worst.preemptions).toBeGreaterThan(1);
    const run = async (chooser: import('../../../src/race/schedule/run').Chooser) => {
      const explorer = { name: 'one', complete: false, used: false, next() { return this.used ? undefined : ((this.used = true), chooser); }, done() {} };
      const r = (await runFake(actors, explorer)).results[0]!;
      return { result: r, failed: fails(r.choices.map((c) => c.actor).join(',')) };
    };
    const { verdict, runs } = await shrink(run, { result: worst, failed: true }, 50);
    expect(verdict.failed).toBe(true);
    expect(verdict.result.preemptions).toBe(1);
    expect(runs).toBeGreaterThan(0);
  });
});

test('explorerFor builds each strategy from the one table, with its defaults', () => {
  expect(explorerFor(undefined).name).toBe('exhaustive (partial-order reduced)');
  expect(explorerFor({ kind: 'exhaustive', reduction: 'none' }).name).toBe('exhaustive');
  expect(explorerFor('random').name).toBe('random (seed 1, 100 runs)');
  expect(explorerFor('pct').name).toBe('pct (seed 1, 100 runs, depth 3)');
  expect(explorerFor({ kind: 'exhaustive', preemptionBound: 2 }).name).toBe('exhaustive (preemption bound 2)');
  expect(explorerFor({ kind: 'pct', seed: 4, runs: 5 }).name).toBe('pct (seed 4, 5 runs, depth 3)');
});
