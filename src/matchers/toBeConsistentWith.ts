import type { MatcherContext } from 'expect';
import {
  EXPECTED_COLOR,
  RECEIVED_COLOR,
  matcherErrorMessage,
  matcherHint,
  printExpected,
  printReceived,
  printWithType,
} from 'jest-matcher-utils';
import { checkAdapters, resolveOptions } from '../consistency/check';
import type { ConsistencyReport } from '../consistency/compare';
import { formatFailure, formatPass, redactReport } from '../consistency/report';
import { ACCEPTED_DATABASE_HANDLES, tryQueryable } from '../db/toQueryable';
import { CacheConsistencyError } from '../errors';
import { toRedisAdapter } from '../redis/toRedisAdapter';
import { trackPending } from './pending';

const NAME = 'toBeConsistentWith';

/** `actual`/`expected` of the result: the inconsistent keys' cached and expected values, keyed by key. */
function sides(report: ConsistencyReport): { actual: Record<string, unknown>; expected: Record<string, unknown> } {
  const actual: Record<string, unknown> = {};
  const expected: Record<string, unknown> = {};
  for (const i of report.inconsistencies) {
    actual[i.keyText] = i.cached;
    expected[i.keyText] = i.expected;
  }
  return { actual, expected };
}

async function run(
  context: MatcherContext,
  received: unknown,
  db: unknown,
  contractsOrOptions: unknown,
  options: unknown,
): Promise<{ pass: boolean; message: () => string; actual?: unknown; expected?: unknown }> {
  const hintOptions = { isNot: context.isNot, promise: context.promise, secondArgument: contractsOrOptions === undefined ? undefined : Array.isArray(contractsOrOptions) ? 'contracts' : 'options' };
  const hint = matcherHint(NAME, 'redis', 'db', hintOptions);

  const redis = toRedisAdapter(received);
  if (!redis) {
    throw new Error(
      matcherErrorMessage(
        hint,
        `${RECEIVED_COLOR('received')} value must be a Redis client: an ioredis client or Cluster, or a connected node-redis v5 or v6 client`,
        printWithType('Received', received, printReceived),
      ),
    );
  }
  const handle = tryQueryable(db);
  if (!handle) {
    throw new Error(
      matcherErrorMessage(hint, `${EXPECTED_COLOR('db')} must be a database handle: ${ACCEPTED_DATABASE_HANDLES}`, printWithType('db', db, printExpected)),
    );
  }
  const resolved = resolveOptions(contractsOrOptions, options);
  if (typeof resolved === 'string') {
    throw new Error(
      matcherErrorMessage(hint, `${EXPECTED_COLOR('contracts / options')}: ${resolved}`, printWithType('Received', options ?? contractsOrOptions, printExpected)),
    );
  }
  try {
    await redis.ready();
  } catch (err) {
    if (err instanceof CacheConsistencyError) {
      throw new Error(matcherErrorMessage(hint, `${RECEIVED_COLOR('received')} value must be a usable Redis client`, err.message));
    }
    throw err;
  }

  // What is printed and returned to Jest: the redact rules applied to both sides (the comparison saw real values).
  const report = redactReport(await checkAdapters(redis, handle, resolved), resolved.redaction);
  const pass = report.inconsistencies.length === 0;
  const { actual, expected } = sides(report);
  const message = pass
    ? () => `${hint}\n\n${formatPass(report)}`
    : () => `${hint}\n\n${formatFailure(report, resolved.maxReported)}`;
  return { pass, message, actual, expected };
}

/**
 * `await expect(redis).toBeConsistentWith(db, contracts?, options?)`: every cached key a contract covers
 * holds what a fresh read-through from `db` would store now. Async: await it.
 */
export function toBeConsistentWith(
  this: MatcherContext,
  received: unknown,
  db: unknown,
  contractsOrOptions?: unknown,
  options?: unknown,
): Promise<{ pass: boolean; message: () => string; actual?: unknown; expected?: unknown }> {
  return trackPending(NAME, run(this, received, db, contractsOrOptions, options), this.currentTestIdentity?.());
}
