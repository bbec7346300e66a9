/**
 * jest-cache-consistency/vitest: the setup file for Vitest (`test.setupFiles`), side effects only, the
 * counterpart of the Jest preset's setup file. With the global setup (./globalSetup.mts) it gives each Vitest
 * worker its own redis-server:
 *
 * - takes the state the global setup provided (`inject`) and picks this worker's server by VITEST_POOL_ID;
 * - registers the matchers (`expect.extend`) and the keyspace snapshot serializer;
 * - resets the embedded database before every test, and empties this worker's Redis where it can matter: as
 *   under the Jest preset, before every test of a file that asked for the server, at the first test of the
 *   file after such a file (under Jest: when such a file ends), and at the first test of a worker process
 *   that is not the first on its server;
 * - fails a test that left a matcher call or an everyInterleaving/replay un-awaited, or a race open; closes
 *   connections after the file.
 */
import { afterAll, afterEach, beforeEach, expect, inject } from 'vitest';
import { lazyKeyspaceSerializer as keyspaceSerializer } from '../keyspace/lazySerializer.js';
import { assertMatchersAwaited } from '../matchers/pending.js';
import { FILE_INFO, type FileInfo, type FileInfoSlot } from '../preset/cleanup.js';
import { writeState } from '../preset/state.js';
import { assertExplorationsAwaited, checkExplorationsAfterEach, closeOpenRacesIfAny as closeOpenRaces } from '../race/session/openRaces.js';
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

// What the Jest preset's environment gives each test file, so the reset is as lazy here (resetTestContext): this
// file's record, and the worker process's, kept on the global so it outlives the file (Vitest runs each file's
// modules afresh; a process or thread that runs several files keeps its global; a fresh global, as with a process
// per file, starts "not emptied" and so costs one FLUSHALL at the file's first test).
const WORKER = Symbol.for('jest-cache-consistency.vitest-worker');
const slots = globalThis as typeof globalThis & FileInfoSlot & { [WORKER]?: FileInfo['worker'] };
const worker = (slots[WORKER] ??= { redisEmptied: false });
// The previous file in this process asked for Redis: whatever it left is still there, including what its
// afterAll hooks, beforeAll cleanups and fixture teardowns wrote after its last test (Vitest has no step that
// runs after all of those, as the Jest environment's teardown does). This file's first test empties it.
if (slots[FILE_INFO]?.emptyRedis) worker.redisEmptied = false;
const file: FileInfo = { worker };
slots[FILE_INFO] = file;

beforeEach(resetTestContext);
// Tests of a file run one at a time here (see docs/vitest.md), so every pending call belongs to this test.
afterEach(() => assertMatchersAwaited(undefined));
afterEach(closeOpenRaces);
// Registered last, so it runs first (Vitest runs after-hooks in reverse): an everyInterleaving/replay left
// running is stopped before anything else touches Redis.
checkExplorationsAfterEach();
afterEach(() => assertExplorationsAwaited(undefined));
afterAll(closeTestContext);

export { VitestGlobalSetupMissingError, VitestWorkerWithoutServerError } from './errors.mjs';
