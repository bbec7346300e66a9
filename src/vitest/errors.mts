import { CacheConsistencyError } from '../errors.js';

/** The setup file ran, but the global setup that starts the servers did not (docs/vitest.md). */
export class VitestGlobalSetupMissingError extends CacheConsistencyError {
  constructor() {
    super(
      'VITEST_GLOBAL_SETUP_MISSING',
      "jest-cache-consistency/vitest is in setupFiles, but its global setup did not run in this Vitest run, so there is no Redis to use.\n" +
        "Add it to vitest.config: test: { globalSetup: ['jest-cache-consistency/vitest/global-setup'], setupFiles: ['jest-cache-consistency/vitest'] } " +
        '(docs/vitest.md#set-up).',
    );
  }
}

/** A Vitest worker whose number (VITEST_POOL_ID) is beyond the servers the global setup started. */
export class VitestWorkerWithoutServerError extends CacheConsistencyError {
  readonly workerId: number;
  readonly servers: number;
  constructor(workerId: number, servers: number) {
    super(
      'VITEST_WORKER_WITHOUT_SERVER',
      `This Vitest worker is number ${workerId} (VITEST_POOL_ID), but the global setup started ${servers} Redis server(s), ` +
        'one per worker it expected. Workers must not share a server (every test empties it).\n' +
        'Set the worker count where the global setup can read it: test.maxWorkers, or (Vitest 3) poolOptions.<pool>.maxThreads / maxForks ' +
        'in the root vitest.config (docs/vitest.md#workers).',
    );
    this.workerId = workerId;
    this.servers = servers;
  }
}
