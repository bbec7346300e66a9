/**
 * The preset's setupFilesAfterEnv: side effects only. Resets this worker's Redis and the embedded database
 * before every test, and closes connections after the file.
 */
import { closeTestContext, environmentClosesConnections, resetTestContext } from './runtime/testContext';

beforeEach(resetTestContext);

if (!environmentClosesConnections()) {
  // Under another testEnvironment the library cannot run after your afterAll hooks: close here.
  afterAll(closeTestContext);
}

// Keyspace snapshots (issue 3): the serializer, for `expect(await captureKeyspace(r)).toMatchSnapshot()` (the
// keyspace matchers are in the matcher table below).
import { registerKeyspaceSerializer } from './keyspace/serializer';

registerKeyspaceSerializer(expect);

// toBeConsistentWith (issue 4): the matcher table, and a failed test for an async matcher left un-awaited.
import { assertMatchersAwaited, matchers } from './matchers';

expect.extend(matchers);
afterEach(() => assertMatchersAwaited(expect.getState().currentTestIdentity?.()));

// Race helpers (issue 5): close every race() of the test, failing it for a gate never reached or released.
import { closeOpenRaces } from './race/race';

afterEach(closeOpenRaces);
