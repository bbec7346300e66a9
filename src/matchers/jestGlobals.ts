/**
 * Types the library's matchers on Jest's global `expect` (the `jest` namespace of @types/jest). Loaded with
 * the package's types: `import ... from 'jest-cache-consistency'` anywhere in the program, or
 * `"types": ["jest", "jest-cache-consistency"]` in tsconfig.json.
 */
import type { CacheMatchers } from './types';

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface Matchers<R, T = {}> extends CacheMatchers<R> {}
  }
}

export {};
