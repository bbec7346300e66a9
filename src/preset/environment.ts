import NodeEnvironment from 'jest-environment-node';
import type { EnvironmentContext, JestEnvironmentConfig } from '@jest/environment';

import { CLEANUP, type CleanupSlot } from './cleanup';

/**
 * The preset's test environment: Node's, plus one thing — clients the library opened for a test file
 * (`testRedis()`, the reset connection) are closed after *every* afterAll hook has run, so your own
 * afterAll hooks may still use them. Extend it if you need your own environment:
 * `class MyEnv extends require('jest-cache-consistency/environment') {}`.
 */
class CacheConsistencyEnvironment extends NodeEnvironment {
  constructor(config: JestEnvironmentConfig, context: EnvironmentContext) {
    super(config, context);
    (this.global as unknown as CleanupSlot)[CLEANUP] = [];
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
