import type { ExpectationResult, MatcherContext, SyncExpectationResult } from 'expect';
import { matcherErrorMessage, printReceived, printWithType } from 'jest-matcher-utils';
import type * as JestSnapshot from 'jest-snapshot';
import type { CaptureKeyspaceOptions } from '../keyspace/capture';
import { truncateLongLines } from '../keyspace/message';
import { registerKeyspaceSerializer } from '../keyspace/serializer';
import {
  captureForMatcher as capture,
  hintFor,
  isOptionsObject as describeOptionsArg,
  parseSnapshotArguments,
  type KeyspaceSnapshotOptions,
} from './keyspaceSnapshotArgs';
import { trackPending } from './pending';

export type { KeyspaceSnapshotOptions } from './keyspaceSnapshotArgs';

type SnapshotContext = MatcherContext & { snapshotState: unknown; error?: Error; currentTestIdentity?: () => object };

function testOf(ctx: SnapshotContext): object | undefined {
  return ctx.currentTestIdentity?.();
}

/* jest-snapshot is loaded when a snapshot matcher first runs, not when the setup file registers it. */
let jestSnapshot: typeof JestSnapshot | undefined;
function snapshotMatchers(): typeof JestSnapshot {
  jestSnapshot ??= require('jest-snapshot') as typeof JestSnapshot;
  return jestSnapshot;
}

/** The result of jest-snapshot's matcher, named after ours, with huge lines cut in the message. */
function rename(result: ExpectationResult, from: string, to: string): SyncExpectationResult {
  const r = result as SyncExpectationResult;
  return {
    ...r,
    message: () => {
      const text = r.message();
      const nl = text.indexOf('\n');
      const first = nl < 0 ? text : text.slice(0, nl);
      return truncateLongLines(first.replace(from, to) + (nl < 0 ? '' : text.slice(nl)));
    },
  };
}

/**
 * `await expect(redis).toMatchKeyspaceSnapshot(options?)`: captures the keyspace and compares it with the
 * snapshot in `__snapshots__`, exactly like `toMatchSnapshot` (written on first run, updated with `-u`).
 */
export function toMatchKeyspaceSnapshot(
  this: MatcherContext,
  received: unknown,
  optionsOrHint?: unknown,
  hintArg?: unknown,
): Promise<SyncExpectationResult> {
  const ctx = this as SnapshotContext;
  return trackPending('toMatchKeyspaceSnapshot', matchKeyspaceSnapshot(ctx, received, optionsOrHint, hintArg), testOf(ctx));
}

async function matchKeyspaceSnapshot(
  ctx: SnapshotContext,
  received: unknown,
  optionsOrHint: unknown,
  hintArg: unknown,
): Promise<SyncExpectationResult> {
  const name = 'toMatchKeyspaceSnapshot';
  const options: KeyspaceSnapshotOptions = parseSnapshotArguments(name, ctx, optionsOrHint, hintArg);
  const snapshot = await capture(name, ctx, received, options, optionsOrHint === undefined ? '' : 'options');
  registerKeyspaceSerializer();
  const { toMatchSnapshot } = snapshotMatchers();
  const args: [string?] = options.hint === undefined ? [] : [options.hint];
  const result = toMatchSnapshot.call(ctx as unknown as JestSnapshot.Context, snapshot, ...args);
  return rename(result, 'toMatchSnapshot', name);
}

/**
 * `await expect(redis).toMatchInlineKeyspaceSnapshot(options?, snapshot?)`: the same, with the snapshot
 * written into the test file. Jest writes the snapshot as the last argument on first run.
 */
export function toMatchInlineKeyspaceSnapshot(
  this: MatcherContext,
  received: unknown,
  optionsOrSnapshot?: unknown,
  inlineSnapshot?: unknown,
): Promise<SyncExpectationResult> {
  const ctx = this as SnapshotContext;
  // Jest finds the call site to rewrite from this error's stack: it must be made before any await.
  ctx.error = new Error();
  return trackPending(
    'toMatchInlineKeyspaceSnapshot',
    matchInlineKeyspaceSnapshot(ctx, received, optionsOrSnapshot, inlineSnapshot),
    testOf(ctx),
  );
}

async function matchInlineKeyspaceSnapshot(
  ctx: SnapshotContext,
  received: unknown,
  optionsOrSnapshot: unknown,
  inlineSnapshot: unknown,
): Promise<SyncExpectationResult> {
  const name = 'toMatchInlineKeyspaceSnapshot';
  let options: CaptureKeyspaceOptions = {};
  let snapshotText: string | undefined;
  if (typeof optionsOrSnapshot === 'string') snapshotText = optionsOrSnapshot;
  else if (describeOptionsArg(optionsOrSnapshot)) options = optionsOrSnapshot as CaptureKeyspaceOptions;
  else if (optionsOrSnapshot !== undefined) {
    throw new Error(
      matcherErrorMessage(
        hintFor(name, ctx, 'options'),
        'the first argument must be an options object or the inline snapshot string',
        printWithType('Options', optionsOrSnapshot, printReceived),
      ),
    );
  }
  if (inlineSnapshot !== undefined) {
    if (typeof inlineSnapshot !== 'string') {
      throw new Error(
        matcherErrorMessage(hintFor(name, ctx, 'options, snapshot'), 'the inline snapshot must be a string', printWithType('Snapshot', inlineSnapshot, printReceived)),
      );
    }
    snapshotText = inlineSnapshot;
  }
  if ('hint' in options) {
    throw new Error(matcherErrorMessage(hintFor(name, ctx, 'options'), 'an inline snapshot has no hint: remove options.hint'));
  }
  const snapshot = await capture(name, ctx, received, options, optionsOrSnapshot === undefined ? '' : 'options');
  registerKeyspaceSerializer();
  const { toMatchInlineSnapshot } = snapshotMatchers();
  const jsCtx = ctx as unknown as JestSnapshot.Context;
  const result =
    snapshotText === undefined ? toMatchInlineSnapshot.call(jsCtx, snapshot) : toMatchInlineSnapshot.call(jsCtx, snapshot, snapshotText);
  return rename(result, 'toMatchInlineSnapshot', name);
}
