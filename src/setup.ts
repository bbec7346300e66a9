/**
 * The preset's setupFilesAfterEnv: side effects only. It runs before every test file, so it loads nothing
 * heavy: the matchers and the keyspace printer load on first use (bench/boot.js measures the difference).
 *
 * - before every test: empty this worker's Redis and reset the test database;
 * - the matchers (`toBeConsistentWith`, `toMatchKeyspaceSnapshot`, ...) and the keyspace snapshot serializer;
 * - after every test: fail a test that left an async matcher un-awaited, and close the test's races;
 * - after the file: close the library's connections (or let the preset's environment do it, later).
 */
import { lazyKeyspaceSerializer, SERIALIZER_REGISTERED } from './keyspace/lazySerializer';
import { lazyMatchers } from './matchers/lazy';
import { assertMatchersAwaited } from './matchers/pending';
import { anyOpenRaces, closeOpenRacesIfAny } from './race/openRaces';
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
// One hook for both checks: every hook costs Jest a little per test. Synchronous unless a race is left open.
afterEach(() => {
  const checkAwaited = () => assertMatchersAwaited(expect.getState().currentTestIdentity?.());
  if (!anyOpenRaces()) return checkAwaited();
  let failure: { error: unknown } | undefined;
  try {
    checkAwaited();
  } catch (error) {
    failure = { error };
  }
  // The races are closed either way; a problem closing them comes first, as a `finally` would have it.
  return closeOpenRacesIfAny().then(() => {
    if (failure) throw failure.error;
  });
});
