import Redis from 'ioredis';
import { createClient } from 'redis';
import { createClient as createClient6 } from 'redis6';
import {
  captureKeyspace,
  InvalidKeyspaceOptionError,
  isKeyspaceSnapshot,
  KEYSPACE_BRAND,
  NotARedisClientError,
  RedisConnectionClosedError,
  RedisUnreachableError,
  redisUrl,
  testRedis,
  toRedisAdapter,
  type CaptureKeyspaceOptions,
  type KeyEntry,
  type KeyspaceSnapshot,
  type RedisAdapter,
} from '../../src';
import { findFreePort } from '../../src/server/redisServer';

let nodeClient: ReturnType<typeof createClient>;
let resp3Client: ReturnType<typeof createClient>;
// node-redis 6 (the devDependency alias `redis6`), RESP2 and RESP3: the same adapter as for v5.
let node6Client: ReturnType<typeof createClient6>;
let node6Resp3Client: ReturnType<typeof createClient6>;
beforeAll(async () => {
  nodeClient = createClient({ url: redisUrl() });
  resp3Client = createClient({ url: redisUrl(), RESP: 3 });
  node6Client = createClient6({ url: redisUrl() });
  node6Resp3Client = createClient6({ url: redisUrl(), RESP: 3 });
  await Promise.all([nodeClient.connect(), resp3Client.connect(), node6Client.connect(), node6Resp3Client.connect()]);
});
afterAll(async () => {
  for (const c of [nodeClient, resp3Client, node6Client, node6Resp3Client]) if (c.isOpen) await c.close();
});

const clients: Array<[string, () => unknown]> = [
  ['ioredis', () => testRedis()],
  ['node-redis', () => nodeClient],
  ['node-redis (RESP3)', () => resp3Client],
  ['node-redis 6', () => node6Client],
  ['node-redis 6 (RESP3)', () => node6Resp3Client],
];

function entry(snap: KeyspaceSnapshot, key: string | Buffer): KeyEntry | undefined {
  return snap.entries.find((e) => (typeof key === 'string' ? e.key === key : Buffer.isBuffer(e.key) && e.key.equals(key)));
}

/** Entries without ttlMs (which moves between two captures). */
function withoutTtl(snap: KeyspaceSnapshot) {
  return snap.entries.map(({ ttlMs: _ttl, ...rest }) => rest);
}

async function writeEveryType(): Promise<void> {
  const r = testRedis();
  await r.set('str', 'hello');
  await r.set('json', '{"b":2,"a":[1,2]}', 'EX', 3600);
  await r.hset('hash', { zeta: '26', alpha: '1', mid: '{"x":1}' });
  await r.rpush('list', 'c', 'a', 'b', 'a');
  await r.sadd('set', 'pear', 'apple', 'fig');
  await r.zadd('zset', 2, 'b', 1, 'z', 1, 'a', '-inf', 'low', '+inf', 'high', 1.5, 'mid');
  await r.xadd('stream', '1-1', 'type', 'login', 'user', '7');
  await r.xadd('stream', '2-0', 'type', 'logout');
}

describe.each(clients)('captureKeyspace with %s', (_name, client) => {
  it('reads every type: value, order and TTL', async () => {
    await writeEveryType();
    const snap = await captureKeyspace(client());
    expect(isKeyspaceSnapshot(snap)).toBe(true);
    expect(snap[KEYSPACE_BRAND]).toBe(true);
    expect(snap.otherTypes).toEqual([]);
    expect(snap.entries.map((e) => e.key)).toEqual(['hash', 'json', 'list', 'set', 'str', 'stream', 'zset']);
    expect(entry(snap, 'str')).toEqual({ key: 'str', type: 'string', ttlMs: null, value: 'hello' });
    const json = entry(snap, 'json')!;
    expect(json).toMatchObject({ type: 'string', value: '{"b":2,"a":[1,2]}' });
    expect(json.ttlMs).toBeGreaterThan(3_500_000);
    expect(json.ttlMs).toBeLessThanOrEqual(3_600_000);
    expect(entry(snap, 'hash')).toEqual({
      key: 'hash',
      type: 'hash',
      ttlMs: null,
      value: [
        ['alpha', '1'],
        ['mid', '{"x":1}'],
        ['zeta', '26'],
      ],
    });
    expect(entry(snap, 'list')).toEqual({ key: 'list', type: 'list', ttlMs: null, value: ['c', 'a', 'b', 'a'] });
    expect(entry(snap, 'set')).toEqual({ key: 'set', type: 'set', ttlMs: null, value: ['apple', 'fig', 'pear'] });
    expect(entry(snap, 'zset')).toEqual({
      key: 'zset',
      type: 'zset',
      ttlMs: null,
      value: [
        { member: 'low', score: -Infinity },
        { member: 'a', score: 1 },
        { member: 'z', score: 1 },
        { member: 'mid', score: 1.5 },
        { member: 'b', score: 2 },
        { member: 'high', score: Infinity },
      ],
    });
    expect(entry(snap, 'stream')).toEqual({
      key: 'stream',
      type: 'stream',
      ttlMs: null,
      value: [
        { id: '1-1', fields: [['type', 'login'], ['user', '7']] },
        { id: '2-0', fields: [['type', 'logout']] },
      ],
    });
  });

  it('keeps bytes that are not UTF-8 as Buffers, and decodes valid UTF-8 (keys, fields, members)', async () => {
    const r = testRedis();
    const badKey = Buffer.from([0x6b, 0xff]);
    const badValue = Buffer.from([0x00, 0xc3, 0x28, 0x0a]);
    await r.set(badKey, badValue);
    await r.set('ünïcødé ✓', '😀');
    await r.set('real-fffd', 'a\uFFFDb'); // a real U+FFFD is text, not a sign of bad bytes
    await r.hset('h', Buffer.from([0xfe]), Buffer.from([0xfd]));
    await r.sadd('s', Buffer.from([0x80]), 'ok');
    const snap = await captureKeyspace(client());
    const bin = entry(snap, badKey)!;
    expect(Buffer.isBuffer(bin.key)).toBe(true);
    expect(bin.value).toEqual(badValue);
    expect(entry(snap, 'ünïcødé ✓')!.value).toBe('😀');
    expect(entry(snap, 'real-fffd')!.value).toBe('a\uFFFDb');
    expect(entry(snap, 'h')!.value).toEqual([[Buffer.from([0xfe]), Buffer.from([0xfd])]]);
    // byte order: "ok" (0x6f) before 0x80
    expect(entry(snap, 's')!.value).toEqual(['ok', Buffer.from([0x80])]);
    // keys sorted in byte order: "h", "k\xff", "s", "ü..." (0xc3)
    expect(snap.entries.map((e) => (Buffer.isBuffer(e.key) ? e.key.toString('hex') : e.key))).toEqual([
      'h',
      '6bff',
      'real-fffd',
      's',
      'ünïcødé ✓',
    ]);
  });

  it('reads large collections in chunks, with the same result', async () => {
    const r = testRedis();
    const fields: Record<string, string> = {};
    for (let i = 0; i < 300; i++) fields[`f${i}`] = `v${i}`;
    await r.hset('h', fields);
    await r.rpush('l', ...Array.from({ length: 250 }, (_, i) => `i${i}`));
    await r.sadd('s', ...Array.from({ length: 260 }, (_, i) => `m${i}`));
    await r.zadd('z', ...Array.from({ length: 270 }, (_, i) => [i % 10, `m${i}`]).flat());
    for (let i = 1; i <= 120; i++) await r.xadd('x', `${i}-0`, 'n', String(i));
    const whole = await captureKeyspace(client());
    const chunked = await captureKeyspace(client(), { chunkSize: 7, batchSize: 2 });
    expect(chunked).toEqual(whole);
    expect((entry(whole, 'h')!.value as unknown[]).length).toBe(300);
    expect((entry(whole, 'l')!.value as unknown[]).length).toBe(250);
    expect((entry(whole, 's')!.value as unknown[]).length).toBe(260);
    expect((entry(whole, 'z')!.value as unknown[]).length).toBe(270);
    expect((entry(whole, 'x')!.value as unknown[]).length).toBe(120);
    expect(entry(whole, 'l')!.value).toEqual(Array.from({ length: 250 }, (_, i) => `i${i}`));
  });

  it('reads an empty stream (entries deleted) as an empty list', async () => {
    const r = testRedis();
    await r.xadd('x', '1-0', 'a', '1');
    await r.xdel('x', '1-0');
    const snap = await captureKeyspace(client());
    expect(snap.entries).toEqual([{ key: 'x', type: 'stream', ttlMs: null, value: [] }]);
  });

  it('match and exclude select keys (one glob on the server, several here)', async () => {
    const r = testRedis();
    await r.mset('user:1', 'a', 'user:2', 'b', 'user:10', 'c', 'post:1', 'd', 'session:x', 'e', 'u[1]', 'f');
    const keys = async (options: CaptureKeyspaceOptions) =>
      (await captureKeyspace(client(), options)).entries.map((e) => e.key);
    expect(await keys({ match: 'user:*' })).toEqual(['user:1', 'user:10', 'user:2']);
    expect(await keys({ match: 'user:?' })).toEqual(['user:1', 'user:2']);
    expect(await keys({ match: ['user:1*', 'post:*'] })).toEqual(['post:1', 'user:1', 'user:10']);
    expect(await keys({ exclude: ['user:*', 'session:*'] })).toEqual(['post:1', 'u[1]']);
    expect(await keys({ match: 'user:*', exclude: 'user:1?' })).toEqual(['user:1', 'user:2']);
    expect(await keys({ match: 'u\\[1\\]' })).toEqual(['u[1]']);
  });

  it('scans with SCAN and never sends KEYS', async () => {
    const r = testRedis();
    for (let i = 0; i < 50; i++) await r.set(`k${i}`, String(i));
    await r.config('RESETSTAT');
    const snap = await captureKeyspace(client(), { batchSize: 10 });
    expect(snap.entries).toHaveLength(50);
    const stats = await r.info('commandstats');
    expect(stats).toMatch(/cmdstat_scan:calls=\d+/);
    expect(stats).not.toMatch(/cmdstat_keys:/);
  });
});

describe('captureKeyspace of a server with keys that have a TTL', () => {
  let monitor: Redis | undefined;
  afterEach(() => {
    monitor?.disconnect();
    monitor = undefined;
  });

  /** Every command sent to the server (not from a script) while `fn` runs, seen by MONITOR. */
  async function sentDuring(fn: () => Promise<unknown>): Promise<string[][]> {
    const r = testRedis();
    monitor = await r.monitor();
    const sent: string[][] = [];
    const end = new Promise<void>((resolve) => {
      monitor!.on('monitor', (_time: string, args: string[], source: string) => {
        if (args[0]?.toLowerCase() === 'echo' && args[1] === 'jcc-end') resolve();
        else if (source !== 'lua') sent.push(args);
      });
    });
    await fn();
    await r.echo('jcc-end'); // MONITOR shows commands in order: once it shows this, it has shown the rest
    await end;
    return sent;
  }

  it.each(clients)('scans and reads each page in one script call: no key travels to the server (%s)', async (_name, client) => {
    const r = testRedis();
    for (let i = 0; i < 50; i++) {
      if (i % 10 === 0) await r.set(`k${i}`, String(i), 'EX', 3600);
      else await r.set(`k${i}`, String(i));
    }
    await r.hset('h', 'f', 'v');
    let snap: KeyspaceSnapshot | undefined;
    const sent = await sentDuring(async () => {
      snap = await captureKeyspace(client(), { batchSize: 10 });
    });
    expect(snap!.entries).toHaveLength(51);
    expect(entry(snap!, 'k10')!.ttlMs).toBeGreaterThan(3_500_000);
    expect(entry(snap!, 'k11')).toEqual({ key: 'k11', type: 'string', ttlMs: null, value: '11' });
    expect(entry(snap!, 'h')).toEqual({ key: 'h', type: 'hash', ttlMs: null, value: [['f', 'v']] });
    // Only the hash (not a string) is named in a command; the 50 strings come back with SCAN's reply.
    const named = sent.flat().filter((arg) => /^k\d+$/.test(arg));
    expect(named).toEqual([]);
  });

  it.each(['with', 'without'])('reads every key that exists throughout while another client grows the hash table (%s TTLs)', async (ttl) => {
    const r = testRedis();
    const pipeline = r.pipeline();
    for (let i = 0; i < 1000; i++) {
      if (ttl === 'with') pipeline.set(`k${i}`, String(i), 'EX', 3600);
      else pipeline.set(`k${i}`, String(i));
    }
    await pipeline.exec();
    const writer = new Redis(redisUrl());
    try {
      // Keys added while the capture runs: the table is resized (rehashed) between SCAN calls.
      const growing = (async () => {
        for (let i = 0; i < 4000; i += 200) {
          const more = writer.pipeline();
          for (let j = i; j < i + 200; j++) more.set(`new${j}`, 'x');
          await more.exec();
        }
      })();
      const snap = await captureKeyspace(r, { batchSize: 20 });
      await growing;
      const keys = new Set(snap.entries.map((e) => e.key));
      expect(Array.from({ length: 1000 }, (_, i) => `k${i}`).filter((k) => !keys.has(k))).toEqual([]);
      expect(keys.size).toBe(snap.entries.length); // one entry per key
    } finally {
      await writer.quit();
    }
  });

  it.each(clients)('keeps keys and values that are not UTF-8 exact, with their TTLs (%s)', async (_name, client) => {
    const r = testRedis();
    const badKey = Buffer.from([0x6b, 0xff]);
    const badValue = Buffer.from([0x00, 0xc3, 0x28, 0x0a]);
    await r.set(badKey, badValue, 'EX', 3600);
    await r.set('real-fffd', 'a\uFFFDb', 'EX', 3600);
    await r.set('\uFFFD-key', 'plain');
    await r.set('ünïcødé ✓', '😀');
    const snap = await captureKeyspace(client());
    const bin = entry(snap, badKey)!;
    expect(Buffer.isBuffer(bin.key)).toBe(true);
    expect(bin.value).toEqual(badValue);
    expect(bin.ttlMs).toBeGreaterThan(3_500_000);
    expect(entry(snap, 'real-fffd')).toMatchObject({ value: 'a\uFFFDb', type: 'string' });
    expect(entry(snap, 'real-fffd')!.ttlMs).toBeGreaterThan(3_500_000);
    expect(entry(snap, '\uFFFD-key')).toEqual({ key: '\uFFFD-key', type: 'string', ttlMs: null, value: 'plain' });
    expect(entry(snap, 'ünïcødé ✓')).toEqual({ key: 'ünïcødé ✓', type: 'string', ttlMs: null, value: '😀' });
    expect(snap.entries).toHaveLength(4);
  });
});

describe('captureKeyspace when the server refuses its script on a later page', () => {
  it('reads the whole server again by SCAN and pipelines: the same keyspace, one entry per key', async () => {
    const r = testRedis();
    for (let i = 0; i < 50; i++) {
      if (i % 10 === 0) await r.set(`k${i}`, String(i), 'EX', 3600);
      else await r.set(`k${i}`, String(i));
    }
    const real = toRedisAdapter(r)!;
    // Script calls run until one has succeeded; every later one is refused, as after an ACL change.
    let ran = 0;
    let refused = 0;
    const script = <T>(command: string, run: () => Promise<T>): Promise<T> => {
      if (!/^EVAL/i.test(command)) return run();
      if (ran > 0) {
        refused++;
        return Promise.reject(new Error("NOPERM this user has no permissions to run the 'evalsha' command"));
      }
      return run().then((reply) => {
        ran++;
        return reply;
      });
    };
    const adapter: RedisAdapter = {
      kind: real.kind,
      client: real.client,
      multiKey: true,
      describe: () => real.describe(),
      ready: () => real.ready(),
      send: (command, ...args) => script(command, () => real.send(command, ...args)),
      sendText: (command, ...args) => script(command, () => real.sendText!(command, ...args)),
      batch: (commands) => real.batch(commands),
      scan: (options) => real.scan(options),
      scanText: (options) => real.scanText!(options),
      shards: () => [adapter],
    };
    const snap = await captureKeyspace(adapter, { batchSize: 10 });
    expect(ran).toBe(1);
    expect(refused).toBeGreaterThan(0);
    expect(withoutTtl(snap)).toEqual(withoutTtl(await captureKeyspace(r)));
    expect(snap.entries).toHaveLength(50);
    expect(entry(snap, 'k20')!.ttlMs).toBeGreaterThan(3_500_000);
    expect(entry(snap, 'k21')!.ttlMs).toBeNull();
  });
});

describe('captureKeyspace without scripting (ACL forbids EVAL): pipelined reads, same result', () => {
  const user = 'jcc-noscript';
  let limited: Redis | undefined;
  afterEach(async () => {
    await limited?.quit();
    limited = undefined;
    await testRedis().acl('DELUSER', user);
  });

  it('falls back to pipelines and reads the same keyspace', async () => {
    const r = testRedis();
    await writeEveryType();
    const fields: Record<string, string> = {};
    for (let i = 0; i < 40; i++) fields[`f${i}`] = `v${i}`;
    await r.hset('big', fields);
    await r.set('bin', Buffer.from([0xff, 0x00]));
    await r.acl('SETUSER', user, 'on', 'nopass', '~*', '+@all', '-@scripting');
    limited = new Redis(redisUrl(), { username: user, password: 'x' });
    await r.config('RESETSTAT');
    const viaPipelines = await captureKeyspace(limited, { chunkSize: 10 });
    const stats = await r.info('commandstats');
    expect(stats).toMatch(/cmdstat_evalsha:calls=0,.*rejected_calls=1/);
    expect(stats).toMatch(/cmdstat_hscan:calls=\d+/); // the 40-field hash, read in chunks
    const viaScript = await captureKeyspace(r);
    expect(withoutTtl(viaPipelines)).toEqual(withoutTtl(viaScript));
    expect(viaPipelines.entries).toHaveLength(9);
  });
});

describe('a client with a key prefix (ioredis keyPrefix)', () => {
  let prefixed: Redis;
  beforeEach(() => {
    prefixed = new Redis(redisUrl(), { keyPrefix: 'app*1:' }); // `*` in the prefix: escaped in SCAN MATCH
  });
  afterEach(async () => {
    await prefixed.quit();
  });

  it('captures only the keys under its prefix, named as the application names them', async () => {
    await prefixed.set('user:1', '{"id":1}', 'EX', 60);
    await prefixed.hset('cart:1', { total: '3' });
    await prefixed.rpush('queue', 'a');
    await prefixed.sadd('tags', 'x');
    await prefixed.zadd('board', 1, 'ada');
    await prefixed.xadd('events', '1-0', 'type', 'login');
    const other = testRedis();
    await other.set('user:1', 'outside the prefix');
    await other.set('app*2:user:1', 'another prefix');
    await other.set('appX1:user:1', 'would match an unescaped *');

    const snap = await captureKeyspace(prefixed);
    expect(snap.entries.map((e) => [e.key, e.type])).toEqual([
      ['board', 'zset'],
      ['cart:1', 'hash'],
      ['events', 'stream'],
      ['queue', 'list'],
      ['tags', 'set'],
      ['user:1', 'string'],
    ]);
    expect(entry(snap, 'user:1')).toMatchObject({ value: '{"id":1}', ttlMs: expect.any(Number) });
    expect(entry(snap, 'cart:1')!.value).toEqual([['total', '3']]);

    // globs apply to the names without the prefix
    expect((await captureKeyspace(prefixed, { match: 'user:*' })).entries.map((e) => e.key)).toEqual(['user:1']);
    expect((await captureKeyspace(prefixed, { match: ['user:*', 'tags'], exclude: 'tags' })).entries.map((e) => e.key)).toEqual(['user:1']);
    // the client still applies its prefix to its own commands afterwards
    expect(await prefixed.get('user:1')).toBe('{"id":1}');
  });

  it('the adapter sends full key names: its keyPrefix is not applied', async () => {
    await prefixed.set('k', 'inside');
    await testRedis().set('k', 'outside');
    const adapter = toRedisAdapter(prefixed)!;
    expect(adapter.keyPrefix).toEqual(Buffer.from('app*1:'));
    expect(String(await adapter.send('GET', 'k'))).toBe('outside');
    expect(String(await adapter.send('GET', 'app*1:k'))).toBe('inside');
    const [reply] = await adapter.batch([['GET', 'app*1:k']]);
    expect(String(reply)).toBe('inside');
  });
});

describe('redaction', () => {
  async function write(): Promise<void> {
    const r = testRedis();
    await r.set('session:1', 'opaque-session-secret', 'EX', 600);
    await r.hset('session:2', { user: '1', csrf: 'hash-session-secret' });
    await r.set('auth:token:9', 'token-key-secret');
    await r.set(
      'user:1',
      JSON.stringify({ id: 1, password: 'pw-secret', profile: { apiToken: 'nested-secret', name: 'Ada' }, cards: [{ number: 'card-secret', brand: 'V' }] }),
    );
    await r.hset('account:1', { email: 'a@example.com', password: 'hash-field-secret', prefs: '{"token":"json-in-hash-secret","theme":"dark"}' });
    await r.xadd('audit', '1-0', 'who', 'ada', 'password', 'stream-field-secret');
    await r.rpush('jobs', '{"id":1,"token":"list-json-secret"}');
    await r.sadd('members', 'visible');
  }

  it('key globs, JSON paths, RegExps and { key, field, path } rules: no secret is left in the capture', async () => {
    await write();
    const snap = await captureKeyspace(testRedis(), {
      redact: [
        'session:*',
        /token/i,
        '$.password',
        '$.cards[*].number',
        { key: 'account:*', field: 'password' },
        { key: 'audit', field: /pass/ },
      ],
    });
    const text = JSON.stringify(snap, (_k, v: unknown) => (Buffer.isBuffer(v) ? v.toString('latin1') : v));
    expect(text).not.toMatch(/secret/);
    expect(entry(snap, 'session:1')).toEqual({ key: 'session:1', type: 'string', value: '[REDACTED]', redacted: true, ttlMs: expect.any(Number) });
    expect(entry(snap, 'session:2')).toEqual({ key: 'session:2', type: 'hash', value: [], redacted: true, ttlMs: null });
    expect(entry(snap, 'auth:token:9')).toMatchObject({ redacted: true }); // /token/i on the key name
    expect(JSON.parse(entry(snap, 'user:1')!.value as string)).toEqual({
      id: 1,
      password: '[REDACTED]',
      profile: { apiToken: '[REDACTED]', name: 'Ada' },
      cards: [{ number: '[REDACTED]', brand: 'V' }],
    });
    expect(entry(snap, 'account:1')!.value).toEqual([
      ['email', 'a@example.com'],
      ['password', '[REDACTED]'],
      ['prefs', '{"token":"[REDACTED]","theme":"dark"}'],
    ]);
    expect(entry(snap, 'audit')!.value).toEqual([{ id: '1-0', fields: [['who', 'ada'], ['password', '[REDACTED]']] }]);
    expect(entry(snap, 'jobs')!.value).toEqual(['{"id":1,"token":"[REDACTED]"}']);
    expect(entry(snap, 'members')!.value).toEqual(['visible']);
  });

  it('rules limited to a key leave other keys alone; $..name reaches any depth', async () => {
    await write();
    const snap = await captureKeyspace(testRedis(), { redact: [{ key: 'user:*', path: '$..number' }, { key: /^account/, field: 'email' }] });
    expect(JSON.parse(entry(snap, 'user:1')!.value as string).cards[0]).toEqual({ number: '[REDACTED]', brand: 'V' });
    expect(JSON.parse(entry(snap, 'user:1')!.value as string).password).toBe('pw-secret');
    expect(entry(snap, 'account:1')!.value).toContainEqual(['email', '[REDACTED]']);
    expect(entry(snap, 'account:1')!.value).toContainEqual(['password', 'hash-field-secret']);
    expect(entry(snap, 'session:1')!.value).toBe('opaque-session-secret');
  });

  it('a JSON value that no rule touches keeps its exact text', async () => {
    await testRedis().set('doc', '{ "spaced" : true }');
    const snap = await captureKeyspace(testRedis(), { redact: ['$.password'] });
    expect(entry(snap, 'doc')!.value).toBe('{ "spaced" : true }');
  });
});

describe('bad input', () => {
  it.each([
    ['undefined', undefined],
    ['a URL string', 'redis://127.0.0.1:6379'],
    ['a plain object', { get: () => 'x' }],
  ])('%s is not a client', async (_name, value) => {
    const err = await captureKeyspace(value).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotARedisClientError);
    expect((err as NotARedisClientError).code).toBe('NOT_A_REDIS_CLIENT');
  });

  it('a closed client', async () => {
    const r = new Redis(redisUrl());
    await r.ping();
    const ended = new Promise((resolve) => r.once('end', resolve));
    await r.quit();
    await ended;
    await expect(captureKeyspace(r)).rejects.toThrow(RedisConnectionClosedError);
  });

  it('an unreachable server', async () => {
    const port = await findFreePort();
    const r = new Redis({ port, host: '127.0.0.1', lazyConnect: true });
    try {
      await expect(captureKeyspace(r)).rejects.toThrow(RedisUnreachableError);
    } finally {
      r.disconnect();
    }
  });

  it.each<[string, unknown]>([
    ['unknown option', { mach: 'user:*' }],
    ['match not a glob', { match: 42 }],
    ['empty glob', { match: [''] }],
    ['ttl', { ttl: 'rounded' }],
    ['ttl buckets not increasing', { ttl: { buckets: [60_000, 1000] } }],
    ['decode.binary', { decode: { binary: 'utf16' } }],
    ['decode unknown', { decode: { jsonn: true } }],
    ['streamIds', { streamIds: 'time' }],
    ['batchSize', { batchSize: 0 }],
    ['chunkSize', { chunkSize: 1.5 }],
    ['redact rule', { redact: [42] }],
    ['redact JSON path', { redact: ['$.a[b'] }],
    ['redact object', { redact: [{}] }],
    ['redact object unknown', { redact: [{ key: 'a', feld: 'b' }] }],
  ])('invalid options: %s', async (_name, options) => {
    const err = await captureKeyspace(testRedis(), options as CaptureKeyspaceOptions).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InvalidKeyspaceOptionError);
    expect((err as InvalidKeyspaceOptionError).code).toBe('INVALID_KEYSPACE_OPTION');
    expect((err as Error).message).toMatch(/docs\/keyspace-snapshots\.md/);
  });
});
