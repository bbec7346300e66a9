/**
 * The preset's setupFilesAfterEnv: side effects only. It runs before every test file, so it loads nothing
 * heavy: the matchers and the keyspace printer load on first use (bench/boot.js measures the difference).
 *
 * - before every test: empty this worker's Redis and reset the test database;
 * - the matchers (`toBeConsistentWith`, `toMatchKeyspaceSnapshot`, ...) and the keyspace snapshot serializer;
 * - after every test: fail a test that left an async matcher or an everyInterleaving/replay un-awaited, and
 *   close the test's races;
 * - after the file: close the library's connections (or let the preset's environment do it, later).
 */
import { lazyKeyspaceSerializer, SERIALIZER_REGISTERED } from './keyspace/lazySerializer';
import { lazyMatchers } from './matchers/lazy';
import { assertMatchersAwaited } from './matchers/pending';
import { anyExplorations, anyOpenRaces, assertExplorationsAwaited, checkExplorationsAfterEach, closeOpenRacesIfAny } from './race/session/openRaces';
import { closeTestContext, environmentClosesConnections, resetTestContext } from './runtime/testContext';

beforeEach(resetTestContext);

if (!environmentClosesConnections()) {
  // Under another testEnvironment the library cannot run after your afterAll hooks: close here.
  afterAll(closeTestContext);
}

const flagged = expect as typeof expect & { [SERIALIZER_REGISTERED]?: true };
if (!flagged[SERIALIZER_REGISTERED]) {
  expect.addSnapshotSerializer(lazyKeyspaceSerializer);
  Object.defineProperty(expect, SERIALIZER_REGISTERED, { value: true, enumerable: false, configurable: true });
}

expect.extend(lazyMatchers);
checkExplorationsAfterEach();
// One hook for every check: every hook costs Jest a little per test. Only the matcher check runs unless the
// test used the race helpers.
afterEach(() => {
  const test = expect.getState().currentTestIdentity?.();
  if (!anyOpenRaces() && !anyExplorations()) return assertMatchersAwaited(test);
  return afterRaces(test);
});

/**
 * Every check runs; the first problem fails the test. An everyInterleaving/replay left running is stopped
 * first (nothing else may reset Redis under it); a problem closing the races comes before an un-awaited
 * matcher, as a `finally` would have it.
 */
async function afterRaces(test: object | undefined): Promise<void> {
  const problems: unknown[] = [];
  for (const check of [() => assertExplorationsAwaited(test), closeOpenRacesIfAny, () => assertMatchersAwaited(test)]) {
    try {
      await check();
    } catch (error) {
      problems.push(error);
    }
  }
  if (problems.length > 0) throw problems[0];
}
