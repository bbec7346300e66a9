/**
 * The matcher as users meet it: pass and `.not`, the failure text (snapshotted, colour stripped), matcher
 * errors for wrong arguments, both Redis clients, and a forgotten `await`.
 */
import { stripVTControlCharacters } from 'node:util';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { createClient as createClient6 } from 'redis6';
import {
  cached,
  defineCache,
  MatcherNotAwaitedError,
  redisUrl,
  registerWriterLookup,
  testDb,
  testRedis,
  withWriterLookup,
} from '../../src';
import { assertMatchersAwaited } from '../../src/matchers/pending';

const redis = testRedis();
const db = testDb();

const userById = defineCache({
  key: 'user:{id}',
  load: (q, { id }) => q.query('SELECT id, name, email FROM users WHERE id = $1', [id]),
  notFound: '__none__',
});
const userHash = defineCache({ key: 'user-hash:{id}', table: 'users', as: 'hash', fields: ['id', 'name'] });
const activeIds = defineCache({ key: 'users:active', load: (q) => q.query('SELECT id FROM users WHERE active'), as: 'set' });
const versioned = defineCache({
  key: 'vuser:{id}',
  table: 'users',
  decode: (entry) => cached.version(JSON.parse(String(entry.value)).v),
});
const contracts = [userById, userHash, activeIds, versioned];

/** The message of the assertion error `run` throws, without colour. */
async function failure(run: () => Promise<unknown>): Promise<string> {
  let error: unknown;
  try {
    await run();
  } catch (err) {
    error = err;
  }
  if (!(error instanceof Error)) throw new Error('expected the assertion to fail, and it passed');
  return stripVTControlCharacters(error.message);
}

beforeEach(() => db.query(`INSERT INTO users (id, name, email, active, version) VALUES (1, 'Tom', 'tom@example.com', true, 2), (2, 'Ann', 'ann@example.com', false, 1)`));

describe('pass and .not', () => {
  it('passes on a consistent cache, and .not fails with the counts', async () => {
    await redis.set('user:1', JSON.stringify({ id: 1, name: 'Tom', email: 'tom@example.com' }));
    await redis.set('user:7', '__none__');
    await redis.sadd('users:active', '1');
    await redis.set('session:x', 'not covered');
    await expect(redis).toBeConsistentWith(db, contracts);
    expect(await failure(() => expect(redis).not.toBeConsistentWith(db, contracts))).toMatchSnapshot();
  });

  it('.not passes on an inconsistent cache', async () => {
    await redis.set('user:2', JSON.stringify({ id: 2, name: 'Old', email: 'ann@example.com' }));
    await expect(redis).not.toBeConsistentWith(db, contracts);
  });

  it('works through .resolves, and says so in the hint', async () => {
    await redis.set('user:2', JSON.stringify({ id: 2, name: 'Old', email: 'ann@example.com' }));
    const message = await failure(() => expect(Promise.resolve(redis)).resolves.toBeConsistentWith(db, contracts));
    expect(message.split('\n')[0]).toBe('expect(redis).resolves.toBeConsistentWith(db, contracts)');
  });
});

describe('the failure message', () => {
  it('has one block per inconsistent key: key, kind, type, TTL, contract, and the decoded values diffed', async () => {
    await redis.set('user:1', JSON.stringify({ id: 1, name: 'Tom', email: 'old@example.com' }), 'EX', 60);
    await redis.set('user:2', '__none__', 'EX', 5);
    await redis.set('user:3', JSON.stringify({ id: 3, name: 'Gone', email: null }));
    await redis.hset('user-hash:1', { name: 'Tom' });
    await redis.sadd('users:active', '1', '2');
    await redis.set('vuser:1', JSON.stringify({ v: 1 }), 'EX', 3600);
    await redis.set('session:x', 'no contract');
    expect(await failure(() => expect(redis).toBeConsistentWith(db, contracts, { strict: true }))).toMatchSnapshot();
  });

  it('shows at most maxReported blocks, then "and M more" with the next keys', async () => {
    for (let id = 3; id <= 12; id++) await redis.set(`user:${id}`, JSON.stringify({ id, name: 'ghost', email: null }));
    const message = await failure(() => expect(redis).toBeConsistentWith(db, contracts, { maxReported: 2 }));
    expect(message.match(/^● /gm)).toHaveLength(2);
    expect(message).toMatchSnapshot();
  });

  it('reports unmapped keys of the default convention, and its one-line form', async () => {
    await redis.set('users:1', JSON.stringify({ id: 1, name: 'Tom', email: 'tom@example.com', active: true, version: 1 }));
    await redis.set('whatever', 'x');
    expect(await failure(() => expect(redis).toBeConsistentWith(db, { strict: true }))).toMatchSnapshot();
  });

  it('shows who wrote a key when a lookup knows it (the race helpers fill this in)', async () => {
    await redis.set('user:1', JSON.stringify({ id: 1, name: 'Tom', email: 'old@example.com' }));
    await redis.set('user:3', JSON.stringify({ id: 3 }));
    const lookup = (key: string) => (key === 'user:1' ? 'reader  redis SET user:1 (step 5 of 5)' : undefined);
    const message = await withWriterLookup(lookup, () => failure(() => expect(redis).toBeConsistentWith(db, contracts)));
    expect(message).toContain('  written by: reader  redis SET user:1 (step 5 of 5)\n');
    expect(message.match(/written by/g)).toHaveLength(1);
    // Outside the scope, no one answers...
    expect(await failure(() => expect(redis).toBeConsistentWith(db, contracts))).not.toContain('written by');
    // ...unless a lookup is registered for every check, until it is removed.
    const remove = registerWriterLookup(() => 'writer  redis SET (step 2)');
    try {
      expect(await failure(() => expect(redis).toBeConsistentWith(db, contracts))).toContain('written by: writer  redis SET (step 2)');
    } finally {
      remove();
    }
  });

  it("asks the active race (the race helpers' registry) about every inconsistent key", async () => {
    await redis.set('user:1', JSON.stringify({ id: 1, name: 'Tom', email: 'old@example.com' }));
    await redis.set('user:3', JSON.stringify({ id: 3 }));
    const slot = Symbol.for('jest-cache-consistency.race.keyWriters');
    const asked: unknown[] = [];
    const registry = {
      lastWriter: (key: string | Buffer) => {
        asked.push(key);
        return key === 'user:1' ? { label: 'reader  redis SET user:1 {"id":1,...} -> OK', step: 5 } : undefined;
      },
    };
    (globalThis as Record<symbol, unknown>)[slot] = registry;
    try {
      const message = await withWriterLookup(() => undefined, () => failure(() => expect(redis).toBeConsistentWith(db, contracts)));
      expect(message).toContain('  written by: reader  redis SET user:1 {"id":1,...} -> OK (step 5)\n');
      expect(asked).toEqual(['user:1', 'user:3']);
    } finally {
      delete (globalThis as Record<symbol, unknown>)[slot];
    }
  });

  it('returns the inconsistent keys as actual and expected, for reporters and IDEs', async () => {
    await redis.set('user:1', JSON.stringify({ id: 1, name: 'Old', email: 'tom@example.com' }));
    let error: { matcherResult?: { actual: unknown; expected: unknown } } | undefined;
    try {
      await expect(redis).toBeConsistentWith(db, contracts);
    } catch (err) {
      error = err as typeof error;
    }
    expect(error?.matcherResult).toMatchObject({
      actual: { 'user:1': { id: 1, name: 'Old', email: 'tom@example.com' } },
      expected: { 'user:1': { id: 1, name: 'Tom', email: 'tom@example.com' } },
    });
  });

  it('cuts a huge value in the message, with a note', async () => {
    await redis.set('user:1', JSON.stringify({ id: 1, name: 'x'.repeat(5000), email: 'tom@example.com' }));
    const message = await failure(() => expect(redis).toBeConsistentWith(db, contracts));
    expect(message).toMatch(/characters not shown/);
    expect(message.length).toBeLessThan(4000);
  });
});

describe('matcher errors for wrong arguments', () => {
  it.each([
    ['a string', 'redis://127.0.0.1'],
    ['a plain object', { get: () => null }],
    ['undefined', undefined],
  ])('received %s instead of a Redis client', async (_name, received) => {
    expect(await failure(() => expect(received).toBeConsistentWith(db))).toMatchSnapshot();
  });

  it.each([
    ['a string', 'postgres://localhost/test'],
    ['an object without query', { select: () => [] }],
    ['null', null],
  ])('db is %s', async (_name, handle) => {
    expect(await failure(() => expect(redis).toBeConsistentWith(handle as object))).toMatchSnapshot();
  });

  it.each([
    ['an unknown option', { strict: true, stirct: true }],
    ['strict that is not a boolean', { strict: 'yes' }],
    ['a contract list holding something else', [userById, { key: 'user:{id}' }]],
    ['maxReported 0', { maxReported: 0 }],
  ])('options: %s', async (_name, options) => {
    expect(await failure(() => expect(redis).toBeConsistentWith(db, options as never))).toMatchSnapshot();
  });

  it('a closed client is a matcher error, not a hang', async () => {
    const closed = new Redis(redisUrl());
    await closed.quit();
    const message = await failure(() => expect(closed).toBeConsistentWith(db));
    expect(message).toMatch(/received value must be a usable Redis client/);
    expect(message).toMatch(/The Redis connection is closed/);
  });
});

it.each([
  ['5', () => createClient({ url: redisUrl() })],
  ['6', () => createClient6({ url: redisUrl() })],
])('works with a node-redis %s client too', async (_version, connect) => {
  const client = connect();
  await client.connect();
  try {
    await client.set('user:1', JSON.stringify({ id: 1, name: 'Tom', email: 'tom@example.com' }));
    await expect(client).toBeConsistentWith(db, contracts);
    await client.hSet('user-hash:1', { name: 'Tom' });
    const message = await failure(() => expect(client).toBeConsistentWith(db, contracts));
    expect(message).toContain('● user-hash:1\n  partial hash: fields are missing or extra');
  } finally {
    await client.close();
  }
});

it('a call left without await fails the test in afterEach (here checked by hand)', async () => {
  await redis.set('user:1', '{}');
  // eslint-disable-next-line @typescript-eslint/no-floating-promises
  const forgotten = expect(redis).toBeConsistentWith(db, contracts).catch(() => 'failed');
  const error = await assertMatchersAwaited(expect.getState().currentTestIdentity?.()).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(MatcherNotAwaitedError);
  expect((error as MatcherNotAwaitedError).code).toBe('MATCHER_NOT_AWAITED');
  expect((error as Error).message).toMatchSnapshot();
  // It waited for the call to finish, so nothing of it runs into the next test.
  expect(await Promise.race([forgotten, Promise.resolve('still running')])).toBe('failed');
});
