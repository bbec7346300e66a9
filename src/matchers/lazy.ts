/**
 * The matcher table the preset's setup file registers. Each entry loads its implementation on first use:
 * the setup file runs for every test file, and most test files never call these matchers, so they should
 * not pay for loading the comparison, jest-diff and jest-snapshot (about 40 ms per file, measured by
 * bench/boot.js). Same names, same behaviour as {@link matchers}.
 */
import type { MatcherContext } from 'expect';
import type { MatcherTable } from './index';
import type * as Consistency from './toBeConsistentWith';
import type * as Snapshot from './toMatchKeyspaceSnapshot';
import type { CacheMatchers } from './types';

const consistency = () => require('./toBeConsistentWith') as typeof Consistency;
const snapshot = () => require('./toMatchKeyspaceSnapshot') as typeof Snapshot;

type Matcher = (this: MatcherContext, received: unknown, ...expected: unknown[]) => ReturnType<MatcherTable<CacheMatchers<void>>[keyof CacheMatchers<void>]>;
const forward = (load: () => Matcher): Matcher =>
  function (this: MatcherContext, received: unknown, ...expected: unknown[]) {
    return load().call(this, received, ...expected);
  };

export const lazyMatchers = {
  toBeConsistentWith: forward(() => consistency().toBeConsistentWith as Matcher),
  toMatchKeyspaceSnapshot: forward(() => snapshot().toMatchKeyspaceSnapshot as Matcher),
  toMatchInlineKeyspaceSnapshot: forward(() => snapshot().toMatchInlineKeyspaceSnapshot as Matcher),
} satisfies Record<keyof CacheMatchers<void>, Matcher>;
