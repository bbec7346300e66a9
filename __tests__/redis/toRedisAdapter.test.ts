import Redis from 'ioredis';
import { createClient } from 'redis';
import {
  isRedisAdapter,
  RedisConnectionClosedError,
  RedisUnreachableError,
  redisUrl,
  testRedis,
  toRedisAdapter,
  type RedisAdapter,
} from '../../src';
import { findFreePort } from '../../src/server/redisServer';

type NodeRedisClient = ReturnType<typeof createClient>;

let nodeClient: NodeRedisClient;
beforeAll(async () => {
  nodeClient = createClient({ url: redisUrl() });
  await nodeClient.connect();
});
afterAll(async () => {
  if (nodeClient.isOpen) await nodeClient.close();
});

const clients: Array<[string, () => unknown]> = [
  ['ioredis', () => testRedis()],
  ['node-redis', () => nodeClient],
];

describe('toRedisAdapter recognises clients by shape', () => {
  it('ioredis -> kind ioredis, node-redis v5 -> kind node-redis', () => {
    expect(toRedisAdapter(testRedis())?.kind).toBe('ioredis');
    expect(toRedisAdapter(nodeClient)?.kind).toBe('node-redis');
  });

  it('returns the same adapter for the same client, and an adapter as is', () => {
    const a = toRedisAdapter(testRedis())!;
    expect(toRedisAdapter(testRedis())).toBe(a);
    expect(toRedisAdapter(a)).toBe(a);
    expect(isRedisAdapter(a)).toBe(true);
  });

  it.each([
    ['undefined', undefined],
    ['null', null],
    ['a string', 'redis://127.0.0.1:6379'],
    ['a plain object', { get: () => null }],
    ['an object with only sendCommand', { sendCommand: () => Promise.resolve(null) }],
    ['a node-redis cluster shape', { sendCommand() {}, withTypeMapping() {}, isOpen: true, isReady: true, on() {}, masters: [] }],
  ])('is undefined for %s', (_name, value) => {
    expect(toRedisAdapter(value)).toBeUndefined();
  });
});

describe.each(clients)('%s adapter', (_name, client) => {
  let adapter: RedisAdapter;
  beforeEach(() => {
    adapter = toRedisAdapter(client())!;
  });

  it('send is binary-safe: replies are Buffers, bytes unchanged', async () => {
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x0d, 0x0a, 0x41]);
    await adapter.send('SET', Buffer.from([0xc3, 0x28]), bytes);
    const reply = await adapter.send('GET', Buffer.from([0xc3, 0x28]));
    expect(Buffer.isBuffer(reply)).toBe(true);
    expect(Buffer.compare(reply as Buffer, bytes)).toBe(0);
    expect(await adapter.send('TYPE', Buffer.from([0xc3, 0x28]))).toEqual(Buffer.from('string'));
    expect(await adapter.send('PTTL', Buffer.from([0xc3, 0x28]))).toBe(-1);
    expect(await adapter.send('GET', 'missing')).toBeNull();
  });

  it('send rejects with the server error', async () => {
    await adapter.send('SET', 'k', 'v');
    await expect(adapter.send('HGET', 'k', 'f')).rejects.toThrow(/WRONGTYPE/);
  });

  it('batch returns replies in order, a rejected command as its Error in its slot', async () => {
    const replies = await adapter.batch([
      ['SET', 'a', '1'],
      ['HSET', 'a', 'f', 'v'],
      ['INCR', 'a'],
      ['GET', 'a'],
    ]);
    expect(replies[0]).toEqual(Buffer.from('OK'));
    expect(replies[1]).toBeInstanceOf(Error);
    expect((replies[1] as Error).message).toMatch(/WRONGTYPE/);
    expect(replies[2]).toBe(2);
    expect(replies[3]).toEqual(Buffer.from('2'));
    expect(await adapter.batch([])).toEqual([]);
  });

  it('scan visits every key exactly once over many pages, honouring MATCH and TYPE', async () => {
    const r = testRedis();
    const pipeline = r.pipeline();
    for (let i = 0; i < 2500; i++) pipeline.set(`k:${i}`, String(i));
    pipeline.hset('h:1', 'f', 'v');
    await pipeline.exec();
    const seen: string[] = [];
    let pages = 0;
    for await (const page of adapter.scan({ count: 100 })) {
      pages++;
      seen.push(...page.map((k) => k.toString()));
    }
    expect(pages).toBeGreaterThan(10);
    expect(new Set(seen).size).toBe(2501);
    const hashes: string[] = [];
    for await (const page of adapter.scan({ type: 'hash' })) hashes.push(...page.map(String));
    expect(hashes).toEqual(['h:1']);
    const matched: string[] = [];
    for await (const page of adapter.scan({ match: 'k:24??' })) matched.push(...page.map(String));
    expect(matched.sort()).toEqual(Array.from({ length: 100 }, (_, i) => `k:${2400 + i}`).sort());
  });

  it('scanText yields keys as strings, and as exact bytes on a page holding a key that is not UTF-8', async () => {
    const r = testRedis();
    await r.mset('a', '1', 'ü', '2');
    const text: Array<string | Buffer> = [];
    for await (const page of adapter.scanText!()) text.push(...page);
    expect(text.sort()).toEqual(['a', 'ü']);
    const bad = Buffer.from([0x6b, 0xff]);
    await r.set(bad, '3');
    const bytes: Array<string | Buffer> = [];
    for await (const page of adapter.scanText!({ count: 1000 })) bytes.push(...page);
    // The page was asked again as bytes: every key of it exact, the one that is not UTF-8 included.
    expect(bytes.map((k) => Buffer.from(k).toString('hex')).sort()).toEqual(['61', '6bff', 'c3bc']);
  });

  it('shards() is the adapter itself for a standalone server, and multi-key reads are allowed', () => {
    expect(adapter.shards()).toEqual([adapter]);
    expect(adapter.multiKey).toBe(true);
  });

  it('ready() resolves for a connected client and describe() names the client', async () => {
    await expect(adapter.ready()).resolves.toBeUndefined();
    // testRedis() may use the worker's unix socket; redisUrl() is TCP.
    expect(adapter.describe()).toMatch(new RegExp(`^${adapter.kind} client \\((redis://127\\.0\\.0\\.1:\\d+|unix:/.*\\.sock), (status )?ready\\)$`));
  });
});

describe('connection state', () => {
  it('ioredis: a quit client is closed', async () => {
    const r = new Redis(redisUrl());
    await r.ping();
    const ended = new Promise((resolve) => r.once('end', resolve));
    await r.quit();
    await ended;
    await expect(toRedisAdapter(r)!.ready()).rejects.toThrow(RedisConnectionClosedError);
  });

  it('ioredis: a lazyConnect client that never ran a command is connected by ready()', async () => {
    const r = new Redis(redisUrl(), { lazyConnect: true });
    try {
      expect(r.status).toBe('wait');
      await toRedisAdapter(r)!.ready();
      expect(r.status).toBe('ready');
    } finally {
      r.disconnect();
    }
  });

  it('ioredis: a server that refuses connections is unreachable', async () => {
    const port = await findFreePort();
    const r = new Redis({ host: '127.0.0.1', port, lazyConnect: true, retryStrategy: () => 50 });
    try {
      const err = await toRedisAdapter(r)!.ready().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RedisUnreachableError);
      expect((err as RedisUnreachableError).code).toBe('REDIS_UNREACHABLE');
      expect((err as Error).message).toContain(`127.0.0.1:${port}`);
      expect((err as Error).message).toMatch(/ECONNREFUSED/);
    } finally {
      r.disconnect();
    }
  });

  it('node-redis: a client never connected, and one closed, are closed', async () => {
    const never = createClient({ url: redisUrl() });
    await expect(toRedisAdapter(never)!.ready()).rejects.toThrow(RedisConnectionClosedError);
    const closed = createClient({ url: redisUrl() });
    await closed.connect();
    await closed.close();
    const err = await toRedisAdapter(closed)!.ready().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisConnectionClosedError);
    expect((err as RedisConnectionClosedError).code).toBe('REDIS_CONNECTION_CLOSED');
  });

  it('node-redis: a client that cannot reach its server is unreachable', async () => {
    const port = await findFreePort();
    const client = createClient({ url: `redis://127.0.0.1:${port}` });
    const errors: unknown[] = [];
    client.on('error', (e) => errors.push(e));
    const connecting = client.connect().catch(() => {});
    try {
      await expect(toRedisAdapter(client)!.ready()).rejects.toThrow(RedisUnreachableError);
    } finally {
      client.destroy();
      await connecting;
    }
  });
});
