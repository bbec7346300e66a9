/**
 * toMatchKeyspaceSnapshot under Vitest. The Jest version hands the captured keyspace to jest-snapshot, whose
 * state Vitest does not have; this one captures the same value and hands it to Vitest's own `toMatchSnapshot`,
 * so Vitest writes, compares, updates (`-u`) and reports obsolete snapshots exactly as for any other snapshot,
 * printed by the keyspace serializer the setup file registers.
 */
import { expect } from 'vitest';
import { matcherErrorMessage, matcherHint, printReceived, printWithType, RECEIVED_COLOR } from 'jest-matcher-utils';
import { CacheConsistencyError, InvalidKeyspaceOptionError } from '../errors.js';
import { captureKeyspace, type CaptureKeyspaceOptions } from '../keyspace/capture.js';
import type { KeyspaceSnapshot } from '../keyspace/types.js';
import { trackPending } from '../matchers/pending.js';
import type { KeyspaceSnapshotOptions } from '../matchers/toMatchKeyspaceSnapshot.js';
import { toRedisAdapter } from '../redis/toRedisAdapter.js';

/** What these matchers read of Vitest's matcher state (`this` in an `expect.extend` matcher). */
export interface VitestMatcherState {
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
const CONNECTION_CODES = new Set(['REDIS_CONNECTION_CLOSED', 'REDIS_UNREACHABLE']);

function hintFor(name: string, state: VitestMatcherState, expected = ''): string {
  return matcherHint(name, undefined, expected, { isNot: state.isNot, promise: state.promise });
}

function isOptionsObject(value: unknown): value is KeyspaceSnapshotOptions {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The same argument rules, and the same matcher errors, as the Jest version. */
function parseArguments(state: VitestMatcherState, optionsOrHint: unknown, hintArg: unknown): KeyspaceSnapshotOptions {
  let options: KeyspaceSnapshotOptions = {};
  if (typeof optionsOrHint === 'string') options = { hint: optionsOrHint };
  else if (isOptionsObject(optionsOrHint)) options = { ...optionsOrHint };
  else if (optionsOrHint !== undefined) {
    throw new Error(
      matcherErrorMessage(
        hintFor(NAME, state, 'options'),
        'options must be an object (captureKeyspace options and hint) or a hint string',
        printWithType('Options', optionsOrHint, printReceived),
      ),
    );
  }
  if (hintArg !== undefined) {
    if (typeof hintArg !== 'string') {
      throw new Error(matcherErrorMessage(hintFor(NAME, state, 'options, hint'), 'hint must be a string', printWithType('Hint', hintArg, printReceived)));
    }
    options.hint = hintArg;
  }
  if (options.hint !== undefined && typeof options.hint !== 'string') {
    throw new Error(matcherErrorMessage(hintFor(NAME, state, 'options'), 'options.hint must be a string', printWithType('Hint', options.hint, printReceived)));
  }
  return options;
}

async function capture(state: VitestMatcherState, received: unknown, options: CaptureKeyspaceOptions, hint: string): Promise<KeyspaceSnapshot> {
  const adapter = toRedisAdapter(received);
  if (!adapter) {
    throw new Error(
      matcherErrorMessage(
        hint,
        `${RECEIVED_COLOR('received')} value must be a Redis client (ioredis, ioredis Cluster or node-redis v5)`,
        printWithType('Received', received, printReceived),
      ),
    );
  }
  try {
    return await captureKeyspace(adapter, options);
  } catch (err) {
    if (err instanceof InvalidKeyspaceOptionError) {
      throw new Error(matcherErrorMessage(hint, `options are invalid: ${err.message}`), { cause: err });
    }
    if (err instanceof CacheConsistencyError && CONNECTION_CODES.has(err.code)) {
      throw new Error(
        matcherErrorMessage(hint, `${RECEIVED_COLOR('received')} value must be a connected Redis client`, `${err.code}: ${err.message}`),
        { cause: err },
      );
    }
    throw err;
  }
}

/** A snapshot mismatch from Vitest: an Error carrying the printed `actual` and `expected`. */
function isMismatch(err: unknown): err is Error & { actual: unknown; expected: unknown } {
  return err instanceof Error && 'actual' in err && 'expected' in err;
}

async function matchKeyspaceSnapshot(state: VitestMatcherState, received: unknown, optionsOrHint: unknown, hintArg: unknown): Promise<MatcherResult> {
  const { hint: snapshotHint, ...captureOptions } = parseArguments(state, optionsOrHint, hintArg);
  const hint = hintFor(NAME, state, optionsOrHint === undefined ? '' : 'options');
  if (state.isNot) {
    throw new Error(matcherErrorMessage(hint, `${NAME} cannot be used with .not (a snapshot either matches or is updated)`));
  }
  const snapshot = await capture(state, received, captureOptions, hint);
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
