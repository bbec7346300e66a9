/**
 * The matcher table for Vitest's `expect.extend`. toBeConsistentWith is the shared, runner-neutral matcher; it
 * reads `isNot` and `promise` from its context, which Vitest's matcher state has with the same meaning as Jest's.
 * The snapshot matchers have Vitest versions (./toMatchKeyspaceSnapshot.mts).
 */
import type { MatcherContext } from 'expect';
import type { CacheMatchers } from '../matchers/types.js';
import { toBeConsistentWith as sharedToBeConsistentWith } from '../matchers/toBeConsistentWith.js';
import {
  toMatchInlineKeyspaceSnapshot,
  toMatchKeyspaceSnapshot,
  type MatcherResult,
  type VitestMatcherState,
} from './toMatchKeyspaceSnapshot.mjs';

function toBeConsistentWith(this: VitestMatcherState, received: unknown, db: unknown, contractsOrOptions?: unknown, options?: unknown): Promise<MatcherResult> {
  // The shared matcher is typed with Jest's MatcherContext, of which it reads isNot, promise and (when the
  // runner has it, Jest only) currentTestIdentity.
  return sharedToBeConsistentWith.call(this as unknown as MatcherContext, received, db, contractsOrOptions, options);
}

type MatcherTable<M> = {
  [K in keyof M]: (this: VitestMatcherState, received: unknown, ...expected: never[]) => Promise<MatcherResult>;
};

export const vitestMatchers = {
  toBeConsistentWith,
  toMatchKeyspaceSnapshot,
  toMatchInlineKeyspaceSnapshot,
} satisfies MatcherTable<CacheMatchers<void>>;
