/**
 * A coded error's message starts with its code, so the failure Jest prints (the class name, then the message)
 * names the section of docs/errors.md to read.
 */
import { CacheConsistencyError, race, toQueryable } from '../src';
import { assertMatchersAwaited, trackPending } from '../src/matchers/pending';

function thrown(fn: () => unknown): CacheConsistencyError {
  try {
    fn();
  } catch (err) {
    return err as CacheConsistencyError;
  }
  throw new Error('did not throw');
}

it('starts the message, and so the first line of the stack, with the code', () => {
  const err = new CacheConsistencyError('SOME_CODE', 'what happened');
  expect(err.code).toBe('SOME_CODE');
  expect(err.message).toBe('[SOME_CODE] what happened');
  expect(err.stack!.split('\n')[0]).toBe('CacheConsistencyError: [SOME_CODE] what happened');
});

it.each([
  ['InvalidRaceScenarioError', 'INVALID_RACE_SCENARIO', () => race({ redis: {} as never })],
  ['UnsupportedDatabaseHandleError', 'UNSUPPORTED_DATABASE_HANDLE', () => toQueryable(5, 'race({ db })')],
])('%s thrown by the library: Jest shows %s in its first line', (name, code, fn) => {
  const err = thrown(fn);
  expect(err.code).toBe(code);
  expect(err.message.startsWith(`[${code}] `)).toBe(true);
  expect(err.stack!.split('\n')[0]).toMatch(new RegExp(`^${name}: \\[${code}\\] \\S`));
});

it('MatcherNotAwaitedError keeps the code in the stack it rewrites to point at the call', async () => {
  const call = trackPending('toBeConsistentWith', Promise.resolve(), undefined);
  const err = (await assertMatchersAwaited().catch((e: unknown) => e)) as CacheConsistencyError;
  await call;
  expect(err.code).toBe('MATCHER_NOT_AWAITED');
  expect(err.stack!.split('\n')[0]).toBe(`MatcherNotAwaitedError: ${err.message.split('\n')[0]}`);
  expect(err.stack!.split('\n')[0]).toMatch(/^MatcherNotAwaitedError: \[MATCHER_NOT_AWAITED\] toBeConsistentWith was called once without await/);
});
