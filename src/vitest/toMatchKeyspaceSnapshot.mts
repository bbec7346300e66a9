/**
 * toMatchKeyspaceSnapshot under Vitest. The Jest version hands the captured keyspace to jest-snapshot, whose
 * state Vitest does not have; this one captures the same value and hands it to Vitest's own `toMatchSnapshot`,
 * so Vitest writes, compares, updates (`-u`) and reports obsolete snapshots exactly as for any other snapshot,
 * printed by the keyspace serializer the setup file registers.
 */
import { expect } from 'vitest';
import { matcherErrorMessage } from 'jest-matcher-utils';
import { captureForMatcher, hintFor, parseSnapshotArguments, type SnapshotMatcherState } from '../matchers/keyspaceSnapshotArgs.js';
import { trackPending } from '../matchers/pending.js';

/** What these matchers read of Vitest's matcher state (`this` in an `expect.extend` matcher). */
export interface VitestMatcherState extends SnapshotMatcherState {
  isNot: boolean;
  promise: string;
}

export interface MatcherResult {
  pass: boolean;
  message: () => string;
  actual?: unknown;
  expected?: unknown;
}

const NAME = 'toMatchKeyspaceSnapshot';
const INLINE = 'toMatchInlineKeyspaceSnapshot';

/** A snapshot mismatch from Vitest: an Error carrying the printed `actual` and `expected`. */
function isMismatch(err: unknown): err is Error & { actual: unknown; expected: unknown } {
  return err instanceof Error && 'actual' in err && 'expected' in err;
}

async function matchKeyspaceSnapshot(state: VitestMatcherState, received: unknown, optionsOrHint: unknown, hintArg: unknown): Promise<MatcherResult> {
  const options = parseSnapshotArguments(NAME, state, optionsOrHint, hintArg);
  const snapshotHint = options.hint;
  const expectedArg = optionsOrHint === undefined ? '' : 'options';
  const hint = hintFor(NAME, state, expectedArg);
  const snapshot = await captureForMatcher(NAME, state, received, options, expectedArg);
  // Vitest's own matcher, on the test running now (tests of one file run one at a time: see docs/vitest.md).
  // It counts as an assertion of its own: put the count back, so expect.assertions(n) sees one call.
  const { assertionCalls } = expect.getState();
  try {
    if (snapshotHint === undefined) expect(snapshot).toMatchSnapshot();
    else expect(snapshot).toMatchSnapshot(snapshotHint);
  } catch (err) {
    if (!isMismatch(err)) throw err;
    return { pass: false, message: () => `${hint}\n\n${err.message}`, actual: err.actual, expected: err.expected };
  } finally {
    expect.setState({ assertionCalls });
  }
  return { pass: true, message: () => `${hint}\n\nThe keyspace matches the snapshot.` };
}

/**
 * `await expect(redis).toMatchKeyspaceSnapshot(options?)` under Vitest: captures the keyspace and compares it
 * with the snapshot in `__snapshots__`, exactly like `toMatchSnapshot`.
 */
export function toMatchKeyspaceSnapshot(this: VitestMatcherState, received: unknown, optionsOrHint?: unknown, hint?: unknown): Promise<MatcherResult> {
  return trackPending(NAME, matchKeyspaceSnapshot(this, received, optionsOrHint, hint), undefined);
}

/**
 * Not available under Vitest: Vitest rewrites an inline snapshot only at the call of its own
 * `toMatchInlineSnapshot`, found from that call's stack. A matcher error says what to write instead.
 */
export function toMatchInlineKeyspaceSnapshot(this: VitestMatcherState, received: unknown, optionsOrSnapshot?: unknown): Promise<MatcherResult> {
  const hint = hintFor(INLINE, this, optionsOrSnapshot === undefined ? '' : 'options');
  return Promise.reject(
    new Error(
      matcherErrorMessage(
        hint,
        `${INLINE} is not available under Vitest (Vitest writes inline snapshots only into its own toMatchInlineSnapshot call)`,
        'Write instead: expect(await captureKeyspace(redis)).toMatchInlineSnapshot()',
      ),
    ),
  );
}
