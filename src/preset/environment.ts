import NodeEnvironment from 'jest-environment-node';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';

import { CLEANUP, FILE_INFO, type CleanupSlot, type FileInfoSlot } from './cleanup';

/** This worker process (this module is loaded once per process): see FileInfo.worker. */
const worker = { redisEmptied: false };

/**
 * The preset's test environment: Node's, plus two things — clients the library opened for a test file
 * (`testRedis()`, the reset connection) are closed after *every* afterAll hook has run, so your own
 * afterAll hooks may still use them; and Redis is emptied only where it can matter (see resetTestContext):
 * after a file that used it, and once per worker process (a crashed worker's leftovers never show). Extend it if
 * you need your own environment: `class MyEnv extends require('jest-cache-consistency/environment') {}`.
 */
class CacheConsistencyEnvironment extends NodeEnvironment {
  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    (this.global as unknown as CleanupSlot)[CLEANUP] = [];
    (this.global as unknown as FileInfoSlot)[FILE_INFO] = { worker };
  }

  override async teardown(): Promise<void> {
    // A file that used Redis leaves it empty behind it: the next file may ask for it only halfway.
    const info = (this.global as unknown as FileInfoSlot)[FILE_INFO];
    if (info?.emptyRedis) {
      // Not emptied until it is: if this fails, the next file's first test empties it instead.
      info.worker.redisEmptied = false;
      await info.emptyRedis().catch(() => {});
    }
    const slot = this.global as unknown as CleanupSlot;
    const tasks = slot[CLEANUP] ?? [];
    slot[CLEANUP] = [];
    await Promise.allSettled(tasks.map((task) => task()));
    await super.teardown();
  }
}

export = CacheConsistencyEnvironment;
