import { MatcherNotAwaitedError } from '../errors';

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
}

const pending = new Set<Pending>();

/** Tracks an async matcher's work until it settles; returns the same promise. */
export function trackPending<T>(matcher: string, promise: Promise<T>, test: object | undefined): Promise<T> {
  const entry: Pending = { matcher, promise, test };
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
  const mine = [...pending].filter((p) => test === undefined || p.test === undefined || p.test === test);
  if (mine.length === 0) return;
  for (const p of mine) pending.delete(p);
  await Promise.allSettled(mine.map((p) => p.promise));
  const names = [...new Set(mine.map((p) => p.matcher))];
  throw new MatcherNotAwaitedError(names.join(' and '), mine.length);
}
