import Redis from 'ioredis';
import { createClient } from 'redis';
import { MatcherNotAwaitedError, redisUrl, testRedis } from '../../src';
import { assertMatchersAwaited } from '../../src/matchers/pending';
import { findFreePort } from '../../src/server/redisServer';

// eslint-disable-next-line no-control-regex
const stripColour = (text: string) => text.replace(/\u001b\[[0-9;]*m/g, '');

/** The matcher error a call throws (a matcher error rejects the awaited expectation). */
async function matcherError(call: () => Promise<unknown>): Promise<string> {
  const outcome = await call().then(
    () => 'resolved',
    (err: unknown) => err,
  );
  if (!(outcome instanceof Error)) throw new Error(`expected a matcher error, the call ${String(outcome)}`);
  return stripColour(outcome.message);
}

async function write(): Promise<void> {
  const r = testRedis();
  await r.set('user:1', JSON.stringify({ id: 1, name: 'Ada', token: 'secret-1' }), 'EX', 3600);
  await r.hset('session:9', { user: '1' });
  await r.sadd('tags', 'b', 'a');
}

describe('toMatchKeyspaceSnapshot', () => {
  it('matches the committed snapshot (ioredis)', async () => {
    await write();
    await expect(testRedis()).toMatchKeyspaceSnapshot();
  });

  it('takes captureKeyspace options and a hint (ioredis)', async () => {
    await write();
    await expect(testRedis()).toMatchKeyspaceSnapshot({ match: 'user:*', redact: ['$.token'], hint: 'users' });
    await expect(testRedis()).toMatchKeyspaceSnapshot({ ttl: 'hide' }, 'no ttl');
    await expect(testRedis()).toMatchKeyspaceSnapshot('hint only');
  });

  it('node-redis gives the same snapshot', async () => {
    await write();
    const client = createClient({ url: redisUrl() });
    await client.connect();
    try {
      await expect(client).toMatchKeyspaceSnapshot();
    } finally {
      await client.close();
    }
  });

  it('inline', async () => {
    await write();
    await expect(testRedis()).toMatchInlineKeyspaceSnapshot(`
Keyspace {
  "session:9" (hash) {
    "user": "1",
  },
  "tags" (set) [
    "a",
    "b",
  ],
  "user:1" (string, expires in ≤ 1h) {
    "id": 1,
    "name": "Ada",
    "token": "secret-1",
  },
}
`);
    await expect(testRedis()).toMatchInlineKeyspaceSnapshot({ match: 'tags' }, `
Keyspace {
  "tags" (set) [
    "a",
    "b",
  ],
}
`);
  });
});

describe('a call left un-awaited', () => {
  it('is tracked, so the setup file can fail the test', async () => {
    await write();
    const forgotten = expect(testRedis()).toMatchKeyspaceSnapshot({ match: 'tags' }, 'not awaited');
    const test = (expect.getState() as { currentTestIdentity?: () => object }).currentTestIdentity?.();
    const err = await assertMatchersAwaited(test).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(MatcherNotAwaitedError);
    expect((err as Error).message).toContain('toMatchKeyspaceSnapshot');
    await forgotten;
  });
});

describe('bad input is a matcher error', () => {
  it.each<[string, () => unknown]>([
    ['undefined', () => undefined],
    ['a URL', () => 'redis://127.0.0.1:6379'],
    ['a plain object', () => ({ get: () => 'x' })],
  ])('not a client: %s', async (_name, value) => {
    expect(await matcherError(() => expect(value()).toMatchKeyspaceSnapshot())).toMatchSnapshot();
  });

  it('a closed ioredis client', async () => {
    const r = new Redis(redisUrl());
    await r.ping();
    const ended = new Promise((resolve) => r.once('end', resolve));
    await r.quit();
    await ended;
    const message = await matcherError(() => expect(r).toMatchKeyspaceSnapshot());
    expect(message.replace(/:\d+/g, ':<port>')).toMatchSnapshot();
  });

  it('a node-redis client that was never connected', async () => {
    const client = createClient({ url: redisUrl() });
    const message = await matcherError(() => expect(client).toMatchKeyspaceSnapshot());
    expect(message.replace(/:\d+/g, ':<port>')).toMatchSnapshot();
  });

  it('an unreachable server', async () => {
    const port = await findFreePort();
    const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
    try {
      const message = await matcherError(() => expect(r).toMatchKeyspaceSnapshot());
      expect(message.replace(new RegExp(String(port), 'g'), '<port>')).toMatchSnapshot();
    } finally {
      r.disconnect();
    }
  });

  it('invalid options, and arguments of the wrong type', async () => {
    const r = testRedis();
    const messages = [
      await matcherError(() => expect(r).toMatchKeyspaceSnapshot({ ttl: 'rounded' as never })),
      await matcherError(() => expect(r).toMatchKeyspaceSnapshot(42 as never)),
      await matcherError(() => expect(r).toMatchKeyspaceSnapshot({}, 42 as never)),
      await matcherError(() => expect(r).toMatchInlineKeyspaceSnapshot({ hint: 'x' } as never)),
    ];
    expect(messages).toMatchSnapshot();
  });

  it('.not is refused', async () => {
    expect(await matcherError(() => expect(testRedis()).not.toMatchKeyspaceSnapshot())).toMatchSnapshot();
  });
});
