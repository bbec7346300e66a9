/**
 * The runtime matcher table: what the setup file hands to `expect.extend`. It `satisfies` the
 * runner-neutral {@link CacheMatchers} interface, so the types and the implementation cannot drift apart
 * (a matcher missing on either side is a compile error).
 */
import type { ExpectationResult, MatcherContext } from 'expect';
import { toBeConsistentWith } from './toBeConsistentWith';
import { toMatchInlineKeyspaceSnapshot, toMatchKeyspaceSnapshot } from './toMatchKeyspaceSnapshot';
import type { CacheMatchers } from './types';

export type MatcherTable<M> = {
  [K in keyof M]: (this: MatcherContext, received: unknown, ...expected: never[]) => ExpectationResult;
};

export const matchers = {
  toBeConsistentWith,
  toMatchKeyspaceSnapshot,
  toMatchInlineKeyspaceSnapshot,
} satisfies MatcherTable<CacheMatchers<void>>;

export { assertMatchersAwaited } from './pending';
