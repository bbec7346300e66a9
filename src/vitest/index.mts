/**
 * jest-cache-consistency/vitest: the setup file for Vitest (`test.setupFiles`), side effects only, the
 * counterpart of the Jest preset's setup file. With the global setup (./globalSetup.mts) it gives each Vitest
 * worker its own redis-server:
 *
 * - takes the state the global setup provided (`inject`) and picks this worker's server by VITEST_POOL_ID;
 * - registers the matchers (`expect.extend`) and the keyspace snapshot serializer;
 * - empties this worker's Redis and resets the embedded database before every test;
 * - fails a test that left a matcher call un-awaited or a race open; closes connections after the file.
 */
import { afterAll, afterEach, beforeEach, expect, inject } from 'vitest';
import { lazyKeyspaceSerializer as keyspaceSerializer } from '../keyspace/lazySerializer.js';
import { assertMatchersAwaited } from '../matchers/pending.js';
import { writeState } from '../preset/state.js';
import { closeOpenRacesIfAny as closeOpenRaces } from '../race/openRaces.js';
import { closeTestContext, resetTestContext, useWorkerIdVariable, workerId } from '../runtime/testContext.js';
import { VitestGlobalSetupMissingError, VitestWorkerWithoutServerError } from './errors.mjs';
import { vitestMatchers } from './matchers.mjs';
import './types.mjs';

const state = inject('cacheConsistencyState');
if (!state) throw new VitestGlobalSetupMissingError();
// testRedis(), testDb() and the reset read the state from this worker's environment, as under Jest.
writeState(state);
useWorkerIdVariable('VITEST_POOL_ID');
if (workerId() > state.redisUrls.length) throw new VitestWorkerWithoutServerError(workerId(), state.redisUrls.length);

expect.extend(vitestMatchers);
expect.addSnapshotSerializer(keyspaceSerializer);

beforeEach(resetTestContext);
// Tests of a file run one at a time here (see docs/vitest.md), so every pending call belongs to this test.
afterEach(() => assertMatchersAwaited(undefined));
afterEach(closeOpenRaces);
afterAll(closeTestContext);

export { VitestGlobalSetupMissingError, VitestWorkerWithoutServerError } from './errors.mjs';
