/**
 * Vitest typings of the library: its matchers on `expect(...)`, and the keys it reads and writes through
 * Vitest's provide/inject. Loaded with `jest-cache-consistency/vitest` (tsconfig `"types"`, or a
 * `/// <reference types="jest-cache-consistency/vitest" />`).
 */
import type { CacheMatchers } from '../matchers/types.js';
import type { CacheConsistencyOptions } from '../preset/options.js';
import type { PresetState } from '../preset/state.js';

declare module 'vitest' {
  // Assertion, not Matchers: the matchers are async, so they cannot work as asymmetric matchers
  // (`expect.toBeConsistentWith(...)`), which Vitest 3.2's `Matchers` would also declare.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unused-vars
  interface Assertion<T = any> extends CacheMatchers<void> {}

  interface ProvidedContext {
    /**
     * The library's options (the keys of Jest's `testEnvironmentOptions.cacheConsistency`), set in
     * vitest.config under `test.provide.cacheConsistency`. Read and validated by the global setup.
     */
    cacheConsistency?: CacheConsistencyOptions;
    /** Written by the global setup for the test workers: the servers it started and the resolved options. */
    cacheConsistencyState?: PresetState;
  }
}

export {};
