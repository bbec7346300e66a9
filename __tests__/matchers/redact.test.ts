/**
 * `redact` wherever the matchers and the keyspace snapshot print a value: toBeConsistentWith's message, diff
 * and the `actual`/`expected` it returns to Jest (per call, and from the preset option), and captureKeyspace /
 * toMatchKeyspaceSnapshot with the preset option. docs/configuration.md#redact.
 */
import { stripVTControlCharacters } from 'node:util';
import { format } from 'pretty-format';
import { captureKeyspace, defineCache, InvalidOptionsError, testDb, testRedis } from '../../src';
import { keyspaceSerializer } from '../../src/keyspace/serializer';
import { validateOptions } from '../../src/preset/options';
import { STATE_ENV, readState } from '../../src/preset/state';

const redis = testRedis();
const db = testDb();

const CACHED = 'hunter2-cached@secret.example';
const STORED = 'hunter2-stored@secret.example';
const SESSION = 'hunter2-session-9f2c';

const userById = defineCache({
  key: 'user:{id}',
  load: (q, { id }) => q.query('SELECT id, name, email FROM users WHERE id = $1', [Number(id)]),
});
const sessionById = defineCache({
  key: 'session:{id}',
  load: (q, { id }) => q.query('SELECT id, name, email FROM users WHERE id = $1', [Number(id)]),
});

/** Everything the failed assertion prints or returns to Jest, as one text. */
async function failure(run: () => Promise<unknown>): Promise<string> {
  let error: unknown;
  try {
    await run();
  } catch (err) {
    error = err;
  }
  if (!(error instanceof Error)) throw new Error('expected the assertion to fail, and it passed');
  const result = (error as { matcherResult?: { actual?: unknown; expected?: unknown } }).matcherResult;
  return stripVTControlCharacters(`${error.message}\n${JSON.stringify(result?.actual)}\n${JSON.stringify(result?.expected)}`);
}

/** Runs `fn` as a worker of a preset configured with `redact` (what globalSetup hands the workers). */
async function withPresetRedact<T>(redact: unknown, fn: () => Promise<T>): Promise<T> {
  const before = process.env[STATE_ENV];
  const state = readState()!;
  const options = validateOptions({ redact }, process.cwd());
  process.env[STATE_ENV] = JSON.stringify({ ...state, options: { ...state.options, redact: options.redact } });
  try {
    return await fn();
  } finally {
    process.env[STATE_ENV] = before;
  }
}

beforeEach(async () => {
  await db.query(`INSERT INTO users (id, name, email) VALUES (1, 'Tom', '${STORED}')`);
  await redis.set('user:1', JSON.stringify({ id: 1, name: 'Jerry', email: CACHED }));
});

describe('toBeConsistentWith: redact', () => {
  it('per call: a JSON path hides the column on both sides of the diff and in actual/expected', async () => {
    const text = await failure(() => expect(redis).toBeConsistentWith(db, [userById], { redact: ['$.email'] }));
    expect(text).not.toContain(CACHED);
    expect(text).not.toContain(STORED);
    expect(text).toContain('"email": "[REDACTED]"');
    expect(text).toContain('"name": "Jerry"'); // the rest of the diff still shows
  });

  it('without redact both secrets are printed (what the rule changes)', async () => {
    const text = await failure(() => expect(redis).toBeConsistentWith(db, [userById]));
    expect(text).toContain(CACHED);
    expect(text).toContain(STORED);
  });

  it('from the preset: a key glob hides whole values, also in the detail line', async () => {
    await redis.set('session:1', `not json ${SESSION}`);
    const text = await withPresetRedact(['session:*'], () => failure(() => expect(redis).toBeConsistentWith(db, [userById, sessionById])));
    expect(text).not.toContain(SESSION);
    expect(text).not.toContain('not json'); // not even the start a JSON parse error quotes
    expect(text).toContain('not valid JSON ([REDACTED])');
    expect(text).toContain('Expected (database): "[REDACTED]"'); // the session's expected side too
    expect(text).toContain(CACHED); // user:1 is not covered by the preset's rule
  });

  it('per call adds to the preset', async () => {
    await redis.set('session:1', SESSION);
    const text = await withPresetRedact(['session:*'], () => failure(() => expect(redis).toBeConsistentWith(db, [userById, sessionById], { redact: '$.email' })));
    expect(text).not.toContain(SESSION);
    expect(text).not.toContain(CACHED);
    expect(text).not.toContain(STORED);
  });

  it('the comparison still sees the real values: a redacted key that is consistent passes', async () => {
    await redis.set('user:1', JSON.stringify({ id: 1, name: 'Tom', email: STORED }));
    await withPresetRedact(['user:*'], () => expect(redis).toBeConsistentWith(db, [userById], { redact: '$.email' }));
  });

  it('a bad rule is a matcher error naming it', async () => {
    // With preset rules in effect too: the index is the call's own.
    const text = await withPresetRedact(['session:*', 'cart:*'], () => failure(() => expect(redis).toBeConsistentWith(db, [userById], { redact: ['$.a['] })));
    expect(text).toContain('Matcher error');
    expect(text).toContain('redact[0]: "$.a[" is not a JSON path (unclosed [)');
  });
});

describe('keyspace snapshots: the preset redact', () => {
  it('captureKeyspace applies the preset rules, and a call adds its own', async () => {
    await redis.set('session:xyz', SESSION);
    const snap = await withPresetRedact(['session:*'], () => captureKeyspace(redis, { redact: '$.email' }));
    const text = format(snap, { plugins: [keyspaceSerializer] });
    expect(text).not.toContain(SESSION);
    expect(text).not.toContain(CACHED);
    expect(text).toContain('"session:xyz" (string) [REDACTED]');
    expect(text).toContain('"email": "[REDACTED]"');
  });

  it('toMatchKeyspaceSnapshot applies them too', async () => {
    await redis.set('session:xyz', SESSION);
    await redis.del('user:1');
    await withPresetRedact([/session/], () =>
      expect(redis).toMatchInlineKeyspaceSnapshot(`
        Keyspace {
          "session:xyz" (string) [REDACTED],
        }
      `),
    );
  });
});

describe('the preset option', () => {
  it('is validated like the other options, and RegExps survive the trip to the workers', () => {
    expect(validateOptions({ redact: ['session:*', /token/i, { key: /^cart:/, field: 'total' }] }, process.cwd()).redact).toEqual([
      'session:*',
      { regexp: 'token', flags: 'i' },
      { key: { regexp: '^cart:', flags: '' }, field: 'total' },
    ]);
    let error: unknown;
    try {
      validateOptions({ redact: ['$.a[', 'x'] }, process.cwd());
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).code).toBe('INVALID_OPTIONS');
    expect((error as Error).message).toContain('testEnvironmentOptions.cacheConsistency.redact[0]');
  });
});
