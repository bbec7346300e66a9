/**
 * Types the library's matchers on `expect` from `@jest/globals` (and the standalone `expect` package),
 * whose `Matchers` interface lives in the `expect` module.
 */
import type { CacheMatchers } from './types';

declare module 'expect' {
  interface Matchers<R extends void | Promise<void>, T = unknown> extends CacheMatchers<R> {}
}

export {};
