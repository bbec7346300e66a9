import { callSite } from '../callSite';
import type { MatcherNotAwaitedError as NotAwaited } from '../errors';

/**
 * Catching a forgotten `await`: every call of an async matcher of this library is tracked until it settles.
 * An awaited call settles before its test returns; one still running when the test's afterEach hooks run
 * was not awaited. The setup file's afterEach waits for it (so it cannot bleed into the next test) and
 * then fails the test with MatcherNotAwaitedError.
 */

interface Pending {
  matcher: string;
  promise: Promise<unknown>;
  /** The test that made the call (Jest's `currentTestIdentity`), so concurrent tests only see their own. */
  test: object | undefined;
  /** Stack frames of the call, outside the library: where the missing `await` is. */
  site: string;
}

const pending = new Set<Pending>();

/** Tracks an async matcher's work until it settles; returns the same promise. */
export function trackPending<T>(matcher: string, promise: Promise<T>, test: object | undefined): Promise<T> {
  const entry: Pending = { matcher, promise, test, site: callSite() };
  pending.add(entry);
  const done = () => {
    pending.delete(entry);
  };
  promise.then(done, done);
  return promise;
}

/**
 * Run after each test (the preset's setup file does): fails with MatcherNotAwaitedError when a matcher
 * call of the current test is still running.
 */
export async function assertMatchersAwaited(test?: object): Promise<void> {
  await failUnawaited([...pending].filter((p) => test === undefined || p.test === undefined || p.test === test));
}

/** The matcher calls running now: give it to assertMatchersAwaitedSince after some code ran. */
export function matchersRunning(): ReadonlySet<object> {
  return new Set(pending);
}

/**
 * Fails with MatcherNotAwaitedError when a matcher call started after `before` (matchersRunning()) is still
 * running: the code that ran in between (a race's setup, actors and check) did not await it. `where` names
 * that code in the message.
 */
export async function assertMatchersAwaitedSince(before: ReadonlySet<object>, where: string): Promise<void> {
  await failUnawaited([...pending].filter((p) => !before.has(p)), where);
}

/** Waits for `mine` (so they cannot bleed into what runs next), forgets them, and throws for them. */
async function failUnawaited(mine: Pending[], where?: string): Promise<void> {
  if (mine.length === 0) return;
  for (const p of mine) pending.delete(p);
  await Promise.allSettled(mine.map((p) => p.promise));
  const names = [...new Set(mine.map((p) => p.matcher))];
  // Loaded on failure only: the setup file loads this module in every test file.
  const { MatcherNotAwaitedError } = require('../errors') as { MatcherNotAwaitedError: typeof NotAwaited };
  const error = new MatcherNotAwaitedError(names.join(' and '), mine.length, where);
  // Point at the first call left without await, not at this hook.
  error.stack = `${error.name}: ${error.message}\n${mine[0]!.site}`;
  throw error;
}
