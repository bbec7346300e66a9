/**
 * A missing `await` is the test's own mistake, and never a green test or a misleading
 * error. A matcher left un-awaited inside a race's check (or setup) fails the schedule with
 * MATCHER_NOT_AWAITED; an everyInterleaving/replay left un-awaited fails its test with RACE_NOT_AWAITED
 * (before, the next test's reset ran under its schedules and it reported RACE_NONDETERMINISTIC).
 */
import { join } from 'node:path';
import { defineCache, everyInterleaving, RaceFailureError, replay, testRedis, type CacheConsistencyError, type Scenario } from '../../src';
import { UserCache } from '../../examples/services/cacheAside';
import { REPO, spawnJest, srcPresetConfig } from '../helpers/processes';
import { assertExplorationsAwaited } from '../../src/race/session/openRaces';

const userById = defineCache({
  key: 'user:{id}',
  load: (db, { id }) => db.query('SELECT id, name, email FROM users WHERE id = $1', [Number(id)]),
});

/** Two readers of one row: every order leaves the cache consistent. */
function readers(check: Scenario['check'], setup?: Scenario['setup']): Scenario {
  return {
    setup:
      setup ??
      (({ db }) => db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`)),
    actors: {
      one: ({ redis, db }) => new UserCache(db, redis).getUser(1),
      two: ({ redis, db }) => new UserCache(db, redis).getUser(1),
    },
    check,
  };
}

async function rejection(p: Promise<unknown>): Promise<CacheConsistencyError> {
  const outcome = await p.then(
    () => 'resolved',
    (error: unknown) => error,
  );
  if (!(outcome instanceof Error)) throw new Error(`expected a rejection, the call ${String(outcome)}`);
  return outcome as CacheConsistencyError;
}

const currentTest = () => expect.getState().currentTestIdentity?.();

describe('a matcher not awaited inside a race', () => {
  it('in the check: the schedule fails with MATCHER_NOT_AWAITED', async () => {
    const error = await rejection(
      everyInterleaving(
        readers(({ redis, db }) => {
          void expect(redis).toBeConsistentWith(db, [userById]);
        }),
      ),
    );
    expect(error).toBeInstanceOf(RaceFailureError);
    const checkError = (error as RaceFailureError).checkError as CacheConsistencyError;
    expect(checkError.code).toBe('MATCHER_NOT_AWAITED');
    expect(checkError.message).toContain("toBeConsistentWith was called once without await in the scenario's actors or check");
    expect(error.message).toContain('The check failed:\n  MatcherNotAwaitedError: [MATCHER_NOT_AWAITED] toBeConsistentWith was called once without await');
  });

  it('in the setup: the call fails with MATCHER_NOT_AWAITED', async () => {
    const error = await rejection(
      everyInterleaving(
        readers(undefined, async ({ redis, db }) => {
          await db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`);
          void expect(redis).toBeConsistentWith(db, [userById]);
        }),
      ),
    );
    expect(error.code).toBe('MATCHER_NOT_AWAITED');
    expect(error.message).toContain("toBeConsistentWith was called once without await in the scenario's setup");
  });

  it('awaited, the same scenario passes every schedule', async () => {
    const summary = await everyInterleaving(
      readers(async ({ redis, db }) => {
        await expect(redis).toBeConsistentWith(db, [userById]);
      }),
    );
    expect(summary).toMatchObject({ complete: true });
    expect(summary.schedules).toBeGreaterThan(1);
  });
});

describe('everyInterleaving / replay not awaited', () => {
  it('still running when the test ends: stopped, and RACE_NOT_AWAITED (what the afterEach runs)', async () => {
    void everyInterleaving(
      readers(async ({ redis, db }) => {
        await expect(redis).toBeConsistentWith(db, [userById]);
      }),
    );
    const error = await rejection(assertExplorationsAwaited(currentTest()));
    expect(error.code).toBe('RACE_NOT_AWAITED');
    expect(error.message).toContain('everyInterleaving(...) was not awaited: the test ended while it was still running');
    expect(error.message).toContain('Write `await everyInterleaving(...)`');
    // Stopped, and Redis put back as it was before the call.
    expect(await testRedis().dbsize()).toBe(0);
  });

  it('settled but never read: RACE_NOT_AWAITED, with what it failed with', async () => {
    void replay('r1:one', { actors: {} });
    // The invalid scenario rejects within this turn of the event loop.
    await new Promise((resolve) => setImmediate(resolve));
    const error = await rejection(assertExplorationsAwaited(currentTest()));
    expect(error.code).toBe('RACE_NOT_AWAITED');
    expect(error.message).toContain('replay(...) was not awaited: the test never read its result; it failed: [INVALID_RACE_SCENARIO] Invalid race option actors');
    expect((error.cause as CacheConsistencyError).code).toBe('INVALID_RACE_SCENARIO');
  });

  it('a second call while the first runs is refused with RACE_NOT_AWAITED', async () => {
    const scenario = readers(async () => {});
    void everyInterleaving(scenario);
    const second = await rejection(everyInterleaving(scenario));
    expect(second.code).toBe('RACE_NOT_AWAITED');
    expect(second.message).toContain('it started while an earlier everyInterleaving(...) call was still running');
    expect((await rejection(assertExplorationsAwaited(currentTest()))).code).toBe('RACE_NOT_AWAITED');
  });

  it('awaited (or returned, or .rejects), nothing is reported', async () => {
    await everyInterleaving(readers(async () => {}));
    await expect(everyInterleaving({ actors: {} })).rejects.toThrow(/actors/);
    await expect(assertExplorationsAwaited(currentTest())).resolves.toBeUndefined();
  });

  it('in a real Jest run: the test fails with RACE_NOT_AWAITED, and the next test runs on a clean state', async () => {
    const dir = join(REPO, '__tests__', 'race', 'fixtures', 'not-awaited');
    const config = srcPresetConfig(dir, { testEnvironmentOptions: { cacheConsistency: { database: { schema: [join(REPO, '__tests__/fixtures/schema.sql')] } } } });
    const run = await spawnJest(dir, ['--config', config, '--runInBand'], { JCC_SRC: join(REPO, 'src', 'index.ts') }).done;
    const output = run.stdout + run.stderr;
    expect(run.code).toBe(1);
    expect(output).toContain('✕ forgets the await');
    expect(output).toContain('RaceNotAwaitedError: [RACE_NOT_AWAITED] everyInterleaving(...) was not awaited: the test ended while it was still running');
    expect(output).toContain('✓ the next test sees a clean state');
    expect(output).not.toContain('RACE_NONDETERMINISTIC');
    expect(output).not.toContain('NondeterministicScenarioError');
    // The matcher check after each test is not lost when the test also left a race open.
    expect(output).toContain('✕ leaves a matcher un-awaited while a race is open');
    expect(output).toContain('MatcherNotAwaitedError: [MATCHER_NOT_AWAITED] toBeConsistentWith was called once without await');
    expect(output).toContain('✓ a last test');
  }, 60_000);
});
