/**
 * What toMatchKeyspaceSnapshot does the same under every runner: its argument rules and their matcher
 * errors, and capturing the received client's keyspace. The Jest matcher (toMatchKeyspaceSnapshot.ts) and the
 * Vitest one (src/vitest/) differ only in whose snapshot machinery compares the capture.
 */
import { matcherErrorMessage, matcherHint, printReceived, printWithType, RECEIVED_COLOR } from 'jest-matcher-utils';
import { CacheConsistencyError, InvalidKeyspaceOptionError } from '../errors';
import { CAPTURE_OPTION_KEYS, captureKeyspace, type CaptureKeyspaceOptions } from '../keyspace/capture';
import { findUnknownKey } from '../optionKeys';
import type { KeyspaceSnapshot } from '../keyspace/types';
import { toRedisAdapter } from '../redis/toRedisAdapter';

/** Options of toMatchKeyspaceSnapshot: every captureKeyspace option, plus the snapshot's `hint`. */
export interface KeyspaceSnapshotOptions extends CaptureKeyspaceOptions {
  /** Names the snapshot like toMatchSnapshot's hint (`test name: hint 1`). */
  hint?: string;
}

/** What the matchers read of the runner's matcher state (Jest's and Vitest's agree on these). */
export interface SnapshotMatcherState {
  isNot?: boolean;
  promise?: string;
}

/** Every captureKeyspace option, and `hint`. */
const SNAPSHOT_OPTION_KEYS: readonly string[] = [...CAPTURE_OPTION_KEYS, 'hint'];

const CONNECTION_CODES = new Set(['REDIS_CONNECTION_CLOSED', 'REDIS_UNREACHABLE']);

export function hintFor(name: string, state: SnapshotMatcherState, expected = ''): string {
  return matcherHint(name, undefined, expected, { isNot: state.isNot, promise: state.promise });
}

export function isOptionsObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `(options?)`, `(hint)` or `(options, hint)`: the options, with the hint in them; misuse is a matcher error. */
export function parseSnapshotArguments(name: string, state: SnapshotMatcherState, optionsOrHint: unknown, hintArg: unknown): KeyspaceSnapshotOptions {
  let options: KeyspaceSnapshotOptions = {};
  if (typeof optionsOrHint === 'string') options = { hint: optionsOrHint };
  else if (isOptionsObject(optionsOrHint)) options = { ...(optionsOrHint as KeyspaceSnapshotOptions) };
  else if (optionsOrHint !== undefined) {
    throw new Error(
      matcherErrorMessage(
        hintFor(name, state, 'options'),
        'options must be an object (captureKeyspace options and hint) or a hint string',
        printWithType('Options', optionsOrHint, printReceived),
      ),
    );
  }
  if (hintArg !== undefined) {
    if (typeof hintArg !== 'string') {
      throw new Error(matcherErrorMessage(hintFor(name, state, 'options, hint'), 'hint must be a string', printWithType('Hint', hintArg, printReceived)));
    }
    options.hint = hintArg;
  }
  const unknown = findUnknownKey(options, SNAPSHOT_OPTION_KEYS);
  if (unknown) {
    throw new Error(
      matcherErrorMessage(hintFor(name, state, 'options'), `options.${unknown.key}: ${unknown.problem}`, printWithType('Options', optionsOrHint, printReceived)),
    );
  }
  if (options.hint !== undefined && typeof options.hint !== 'string') {
    throw new Error(matcherErrorMessage(hintFor(name, state, 'options'), 'options.hint must be a string', printWithType('Hint', options.hint, printReceived)));
  }
  return options;
}

/** Validates received and options and captures the keyspace; every misuse is a matcher error. */
export async function captureForMatcher(
  name: string,
  state: SnapshotMatcherState,
  received: unknown,
  options: KeyspaceSnapshotOptions,
  expectedArg: string,
): Promise<KeyspaceSnapshot> {
  const hint = hintFor(name, state, expectedArg);
  if (state.isNot) {
    throw new Error(matcherErrorMessage(hint, `${name} cannot be used with .not (a snapshot either matches or is updated)`));
  }
  const adapter = toRedisAdapter(received);
  if (!adapter) {
    throw new Error(
      matcherErrorMessage(
        hint,
        `${RECEIVED_COLOR('received')} value must be a Redis client (ioredis, ioredis Cluster or node-redis v5/v6)`,
        printWithType('Received', received, printReceived),
      ),
    );
  }
  const { hint: _hint, ...captureOptions } = options;
  try {
    return await captureKeyspace(adapter, captureOptions);
  } catch (err) {
    if (err instanceof InvalidKeyspaceOptionError) {
      throw new Error(matcherErrorMessage(hint, `options are invalid: ${err.message}`), { cause: err });
    }
    if (err instanceof CacheConsistencyError && CONNECTION_CODES.has(err.code)) {
      throw new Error(
        matcherErrorMessage(hint, `${RECEIVED_COLOR('received')} value must be a connected Redis client`, err.message),
        { cause: err },
      );
    }
    throw err;
  }
}
