import NodeEnvironment from 'jest-environment-node';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';

import { CLEANUP, FILE_INFO, type CleanupSlot, type FileInfoSlot } from './cleanup';

/** Test files this process has set up so far (this module is loaded once per worker process). */
let filesInProcess = 0;

/**
 * The preset's test environment: Node's, plus two things — clients the library opened for a test file
 * (`testRedis()`, the reset connection) are closed after *every* afterAll hook has run, so your own
 * afterAll hooks may still use them; and each file learns whether it is the first of its worker process
 * (the first empties Redis once, whatever it does: a crashed worker's leftovers never show). Extend it if you need your own environment:
 * `class MyEnv extends require('jest-cache-consistency/environment') {}`.
 */
class CacheConsistencyEnvironment extends NodeEnvironment {
  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    (this.global as unknown as CleanupSlot)[CLEANUP] = [];
    (this.global as unknown as FileInfoSlot)[FILE_INFO] = { firstFileInProcess: filesInProcess++ === 0, redisHandedOut: false, redisEmptied: false };
  }

  override async teardown(): Promise<void> {
    const slot = this.global as unknown as CleanupSlot;
    const tasks = slot[CLEANUP] ?? [];
    slot[CLEANUP] = [];
    await Promise.allSettled(tasks.map((task) => task()));
    await super.teardown();
  }
}

export = CacheConsistencyEnvironment;
