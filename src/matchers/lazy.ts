/**
 * The matcher table the preset's setup file registers. Each entry loads its implementation on first use:
 * the setup file runs for every test file, and most test files never call these matchers, so they should
 * not pay for loading the comparison, jest-diff and jest-snapshot (about 40 ms per file, measured by
 * bench/boot.js). Same names, same types, same behaviour as the eager table `matchers` in ./index, which
 * `satisfies` CacheMatchers (this file only imports its type, so nothing heavy loads).
 */
import { lazyFunction } from '../lazy';
import type { matchers as EagerMatchers } from './index';
import type * as Consistency from './toBeConsistentWith';
import type * as Snapshot from './toMatchKeyspaceSnapshot';

const consistency = () => require('./toBeConsistentWith') as typeof Consistency;
const snapshot = () => require('./toMatchKeyspaceSnapshot') as typeof Snapshot;

export const lazyMatchers: typeof EagerMatchers = {
  toBeConsistentWith: lazyFunction(() => consistency().toBeConsistentWith),
  toMatchKeyspaceSnapshot: lazyFunction(() => snapshot().toMatchKeyspaceSnapshot),
  toMatchInlineKeyspaceSnapshot: lazyFunction(() => snapshot().toMatchInlineKeyspaceSnapshot),
};
