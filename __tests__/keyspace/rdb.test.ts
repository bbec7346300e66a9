import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { createClient } from 'redis';
import { captureKeyspace, testRedis, type CaptureKeyspaceOptions, type KeyEntry, type KeyspaceSnapshot } from '../../src';
import { rdbCapture } from '../../src/keyspace/capture';
import { readRdb, RdbUnsupportedError } from '../../src/keyspace/rdb';
import { renderTtl } from '../../src/keyspace/ttl';
import { readState } from '../../src/preset/state';
import { findFreePort, pingAndIdentify, startRedisServer, type RedisServer } from '../../src/server/redisServer';

/*
 * The RDB snapshot path of captureKeyspace (SAVE on a server the library started, the file read in this process)
 * must give exactly what the usual path (SCAN pages, MGET, scripts) gives: the same entries in the same order,
 * the same decoding of bytes that are not UTF-8, the same TTL buckets. Each comparison captures the same
 * keyspace both ways, the RDB path first, and checks through INFO persistence that it really took a SAVE.
 */

const binary = '/usr/bin/redis-server';
let server: RedisServer;
let admin: Redis;
const defaults = { ...rdbCapture };

beforeAll(async () => {
  server = await startRedisServer({ binary, args: ['--enable-debug-command', 'yes'] });
  admin = new Redis(server.url);
});
afterAll(async () => {
  Object.assign(rdbCapture, defaults);
  await admin?.quit();
  await server?.stop();
});
beforeEach(async () => {
  await admin.flushall();
  // Every capture by an RDB snapshot, unless a test says otherwise.
  Object.assign(rdbCapture, { minKeys: 0, minShare: 0 });
});

const rdbSaves = (r: Redis = admin) => savesOf(r);
async function savesOf(r: Redis): Promise<number> {
  return Number(/rdb_saves:(\d+)/.exec(await r.info('persistence'))![1]);
}

/** Entries with the TTL as its default printed bucket (the exact ms moves between two captures). */
function printed(snap: KeyspaceSnapshot) {
  const bucket = (e: { ttlMs: number | null }) => (e.ttlMs === null ? null : renderTtl(e.ttlMs, 'buckets'));
  return {
    entries: snap.entries.map((e) => ({ ...e, ttlMs: bucket(e) })),
    otherTypes: snap.otherTypes.map((e) => ({ ...e, ttlMs: bucket(e) })),
    print: snap.print,
  };
}

/** Captures `client`'s keyspace by an RDB snapshot, then the usual way, and checks they agree. */
async function bothWays(client: unknown, options?: CaptureKeyspaceOptions, on: { admin: Redis; dir: string } = { admin, dir: server.dir }): Promise<KeyspaceSnapshot> {
  const rdbSaves = () => savesOf(on.admin);
  const before = await rdbSaves();
  const used = rdbCapture.used;
  const started = Date.now();
  rdbCapture.minKeys = 0;
  const viaRdb = await captureKeyspace(client, options);
  expect(await rdbSaves()).toBe(before + 1);
  expect(rdbCapture.used).toBe(used + 1); // read from the file, not fallen back to the usual path
  rdbCapture.minKeys = Infinity;
  const usual = await captureKeyspace(client, options);
  const elapsed = Date.now() - started;
  expect(await rdbSaves()).toBe(before + 1);
  expect(printed(viaRdb)).toEqual(printed(usual));
  // The exact TTLs: the RDB's are those of a moment before the usual capture's, never later.
  viaRdb.entries.forEach((e: KeyEntry, i) => {
    const other = usual.entries[i]!.ttlMs;
    if (e.ttlMs === null) return expect(other).toBeNull();
    expect(e.ttlMs).toBeGreaterThanOrEqual(other!);
    expect(e.ttlMs - other!).toBeLessThanOrEqual(elapsed + 1);
  });
  // The file is read, then deleted.
  expect(readdirSync(on.dir)).toEqual([]);
  return viaRdb;
}

const binaryKey = Buffer.from([0x6b, 0xff, 0x00, 0x41]);
const binaryValue = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0xfe]);
const INTEGER_LIKE = ['0', '-1', '7', '127', '-128', '128', '255', '32767', '-32768', '65536', '2147483647', '-2147483648',
  '2147483648', '99999999999', '9223372036854775807', '007', '-0', '+5', '1e3', ' 1'];

async function writeStrings(r: Redis, n: number): Promise<void> {
  const p = r.pipeline();
  for (let i = 0; i < n; i++) {
    const value = JSON.stringify({ id: i, name: `user ${i}`, tags: ['a', 'b'] });
    if (i % 10 === 0) p.set(`user:${i}`, value, 'EX', 3600);
    else if (i % 10 === 1) p.set(`user:${i}`, value, 'PX', 86_400_000);
    else p.set(`user:${i}`, value);
  }
  p.set(binaryKey, binaryValue);
  p.set('bin:value', binaryValue, 'EX', 600);
  p.set(Buffer.from([0xc3, 0x28]), 'invalid UTF-8 key');
  p.set('real:fffd', 'a\uFFFDb'); // valid UTF-8 holding U+FFFD: a string, not bytes
  p.set('héllo wörld ✓ 😀', 'ünïcode ✓ 😀');
  p.set('empty', '');
  INTEGER_LIKE.forEach((v, i) => p.set(`int:${i}`, v));
  INTEGER_LIKE.forEach((v) => p.set(v, `key ${v}`)); // integer-like keys are stored integer-encoded too
  p.set('long:x', 'x'.repeat(5000));
  p.set('long:json', JSON.stringify(Array.from({ length: 200 }, (_, i) => ({ id: i, name: 'same name again' }))), 'EX', 60);
  p.set('long:binary', Buffer.concat(Array.from({ length: 100 }, () => binaryValue)));
  await p.exec();
}

async function writeEveryType(r: Redis): Promise<void> {
  await r.hset('hash', { zeta: '26', alpha: '1', mid: '{"x":1}' });
  await r.hset('hash:big', Object.fromEntries(Array.from({ length: 1500 }, (_, i) => [`f${i}`, `v${i}`])));
  await r.rpush('list', 'c', 'a', 'b', 'a');
  await r.rpush('list:big', ...Array.from({ length: 1200 }, (_, i) => `item${i}`));
  await r.sadd('set', 'pear', 'apple', 'fig');
  await r.sadd('set:ints', 3, 1, 2, 100000);
  await r.zadd('zset', 2, 'b', 1, 'z', 1, 'a', '-inf', 'low', '+inf', 'high', 1.5, 'mid');
  await r.xadd('stream', '1-1', 'type', 'login', 'user', '7');
  await r.xadd('stream', '2-0', 'type', 'logout');
  await r.xgroup('CREATE', 'stream', 'readers', '0');
  await r.xreadgroup('GROUP', 'readers', 'alice', 'COUNT', 1, 'STREAMS', 'stream', '>');
  await r.expire('list', 600);
  await r.expire('hash:big', 3600);
}

/** Every encoding of hashes, lists, sets and sorted sets Redis 7.0 writes, with the integer forms listpacks use. */
async function writeEncodings(r: Redis): Promise<void> {
  const ints = ['-5', '0', '127', '128', '4095', '-4096', '4096', '5000', '-32768', '70000', '-9000000', '3000000000',
    '-9223372036854775808', '9223372036854775807', '18446744073709551615', '007', ' 5', '1.5', '-0'];
  await r.rpush('enc:list:ints', ...ints);
  await r.rpush('enc:list:long', 'a'.repeat(63), 'b'.repeat(64), 'c'.repeat(4095), 'd'.repeat(4096), 'e'.repeat(20_000), Buffer.from([0xff, 0xfe]));
  await r.hset('enc:hash:ints', Object.fromEntries(ints.map((v, i) => [v, ints[ints.length - 1 - i]!])));
  await r.hset('enc:hash:binary', { [Buffer.from([0xc3, 0x28]).toString('latin1')]: 'x' });
  await r.hset('enc:hash:table', { long: 'v'.repeat(100), [Buffer.from([0xfe]).toString('latin1')]: Buffer.from([0xff]) as unknown as string });
  await r.sadd('enc:set:int16', 1, -2, 300);
  await r.sadd('enc:set:int32', 1, 70000, -70000);
  await r.sadd('enc:set:int64', 1, '9223372036854775807', '-9223372036854775808');
  await r.sadd('enc:set:big', ...Array.from({ length: 600 }, (_, i) => i * 3));
  await r.zadd('enc:zset:small', 1.1, 'a', -0, 'negzero', 0, 'zero', '-inf', 'low', '+inf', 'high', 3, 'int', 1e300, 'huge', 5e-324, 'tiny');
  await r.zadd('enc:zset:big', ...Array.from({ length: 300 }, (_, i) => [i % 7 === 0 ? -i / 3 : i / 7, `m${i}`]).flat(), -0, 'negzero', '-inf', 'low', '+inf', 'high');
  await r.pexpire('enc:zset:big', 7_200_000);
}

it('strings with and without TTL, bytes that are not UTF-8, integer-encoded keys and values: the same capture', async () => {
  await writeStrings(admin, 500);
  const snap = await bothWays(admin);
  expect(snap.entries.length).toBe(500 + 6 + 2 * INTEGER_LIKE.length + 3);
  expect(snap.entries.find((e) => Buffer.isBuffer(e.key) && e.key.equals(binaryKey))).toEqual({ key: binaryKey, type: 'string', ttlMs: null, value: binaryValue });
  expect(snap.entries.find((e) => e.key === 'real:fffd')?.value).toBe('a\uFFFDb');
  expect(snap.entries.find((e) => e.key === 'int:6')?.value).toBe('255');
});

it('hashes, lists, sets and sorted sets in every encoding, read from the file (none read live)', async () => {
  await writeEncodings(admin);
  await writeEveryType(admin);
  // Large list elements in quicklist nodes of their own (PLAIN), as the server stores those over 1 GB.
  await admin.call('DEBUG', 'QUICKLIST-PACKED-THRESHOLD', '1000');
  try {
    await admin.rpush('enc:list:plain', 'small', 'p'.repeat(2000), 'small2', Buffer.concat([Buffer.from([0xff]), Buffer.alloc(1500, 0x61)]));
  } finally {
    await admin.call('DEBUG', 'QUICKLIST-PACKED-THRESHOLD', String(1 << 30));
  }
  await admin.config('RESETSTAT');
  const used = rdbCapture.used;
  await captureKeyspace(admin);
  expect(rdbCapture.used).toBe(used + 1);
  // Only the stream was read live (by the read script: MGET, PTTL, TYPE, XLEN, XRANGE); the rest came from the file.
  const stats = await admin.info('commandstats');
  expect(stats).not.toMatch(/cmdstat_(hgetall|lrange|smembers|zrange|hscan|sscan|zscan|hlen|llen|scard|zcard|get|scan):/);
  expect(stats).toMatch(/cmdstat_xrange:calls=1,/);
  await bothWays(admin);
});

it('values the server compressed (rdbcompression yes: LZF): the same capture', async () => {
  await writeStrings(admin, 200);
  await writeEncodings(admin);
  await admin.config('SET', 'rdbcompression', 'yes');
  try {
    const snap = await bothWays(admin);
    expect(snap.entries.find((e) => e.key === 'long:x')?.value).toBe('x'.repeat(5000));
  } finally {
    await admin.config('SET', 'rdbcompression', 'no');
  }
});

it('every type, the large ones in chunks, streams with consumer groups: the same capture', async () => {
  await writeStrings(admin, 50);
  await writeEveryType(admin);
  const snap = await bothWays(admin);
  expect(snap.entries.map((e) => e.type).sort()).toEqual(expect.arrayContaining(['hash', 'list', 'set', 'zset', 'stream', 'string']));
  await bothWays(admin, { chunkSize: 100 });
});

it('only the client\'s database, of several (ioredis and node-redis, RESP2 and RESP3)', async () => {
  await writeStrings(admin, 100);
  const db3 = new Redis(server.url, { db: 3 });
  const db5 = createClient({ url: server.url, database: 5 });
  const db5resp3 = createClient({ url: server.url, database: 5, RESP: 3 });
  await Promise.all([db5.connect(), db5resp3.connect()]);
  try {
    await writeStrings(db3, 30);
    await writeEveryType(db3);
    await db3.set('only:in:3', 'x', 'EX', 60);
    await db5.set('only:in:5', 'y');
    await db5.hSet('h5', { a: '1' });
    const three = await bothWays(db3);
    expect(three.entries.some((e) => e.key === 'only:in:3')).toBe(true);
    expect(three.entries.some((e) => e.key === 'only:in:5' || e.key === 'user:99')).toBe(false);
    const five = await bothWays(db5);
    expect(five.entries.map((e) => e.key)).toEqual(['h5', 'only:in:5']);
    await bothWays(db5resp3);
    // An empty database of a server with keys elsewhere.
    const empty = new Redis(server.url, { db: 9 });
    try {
      expect((await bothWays(empty)).entries).toEqual([]);
    } finally {
      empty.disconnect();
    }
  } finally {
    db3.disconnect();
    await Promise.all([db5.close(), db5resp3.close()]);
  }
});

it("the preset's own server (started in Jest's process, known to the worker through the preset's state)", async () => {
  const r = testRedis();
  await writeStrings(r, 300);
  await writeEveryType(r);
  const runId = /run_id:(\w+)/.exec(await r.info('server'))![1];
  const own = readState()!.ownServers!.find((s) => s.runId === runId)!;
  expect(own.dir).toMatch(/jcc-redis-/);
  await bothWays(r, undefined, { admin: r, dir: own.dir });
});

it('an empty keyspace', async () => {
  const snap = await bothWays(admin);
  expect(snap.entries).toEqual([]);
  expect(snap.otherTypes).toEqual([]);
});

it('match, exclude, redact and a client key prefix apply as on the usual path', async () => {
  await writeStrings(admin, 100);
  await writeEveryType(admin);
  await admin.set('app:user:1', '{"id":1,"token":"secret"}', 'EX', 3600);
  await admin.set('app:user:[2]', 'brackets');
  await admin.hset('app:cart:1', { total: '30' });
  await bothWays(admin, { match: 'user:1*' });
  await bothWays(admin, { match: ['user:2?', 'int:*', 'hash*'], exclude: 'int:1*' });
  await bothWays(admin, { redact: ['user:3*', '$..tags'] });
  const app = new Redis(server.url, { keyPrefix: 'app:' });
  try {
    const snap = await bothWays(app);
    expect(snap.entries.map((e) => e.key)).toEqual(['cart:1', 'user:1', 'user:[2]']);
    await bothWays(app, { match: 'user:*' });
  } finally {
    app.disconnect();
  }
});

it('keys expired but not yet removed are left out, as PTTL -2 leaves them out', async () => {
  await admin.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0');
  try {
    await writeStrings(admin, 20);
    await admin.set('gone:string', 'x', 'PX', 1);
    await admin.hset('gone:hash', { a: '1' });
    await admin.pexpire('gone:hash', 1);
    // The server's own clock (TIME touches no key, so nothing expires them lazily) past their expiry.
    const [sec, usec] = await admin.time();
    const setAt = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    for (;;) {
      const [s, u] = await admin.time();
      if (Number(s) * 1000 + Math.floor(Number(u) / 1000) > setAt + 2) break;
    }
    expect(await admin.dbsize()).toBe(20 + 6 + 2 * INTEGER_LIKE.length + 3 + 2); // still there
    const snap = await bothWays(admin);
    expect(snap.entries.some((e) => String(e.key).startsWith('gone:'))).toBe(false);
  } finally {
    await admin.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1');
  }
});

it('several captures at once on one server: each its own SAVE, the same result', async () => {
  await writeStrings(admin, 300);
  await writeEveryType(admin);
  rdbCapture.minKeys = Infinity;
  const usual = printed(await captureKeyspace(admin));
  const before = await rdbSaves();
  rdbCapture.minKeys = 0;
  const clients = [admin, new Redis(server.url), new Redis(server.url)];
  try {
    const used = rdbCapture.used;
    const snaps = await Promise.all([...clients, ...clients].map((c) => captureKeyspace(c)));
    for (const snap of snaps) expect(printed(snap)).toEqual(usual);
    expect(await rdbSaves()).toBe(before + 6);
    expect(rdbCapture.used).toBe(used + 6);
  } finally {
    for (const c of clients.slice(1)) c.disconnect();
  }
});

it('below minKeys keys in the client\'s database, or when other databases hold most keys: no SAVE', async () => {
  await writeStrings(admin, 100);
  const before = await rdbSaves();
  Object.assign(rdbCapture, defaults, { minKeys: 1000 });
  await captureKeyspace(admin);
  rdbCapture.minKeys = 10;
  const db1 = new Redis(server.url, { db: 1 });
  try {
    await db1.set('a', '1');
    await db1.set('b', '2');
    await captureKeyspace(db1);
    expect(await rdbSaves()).toBe(before);
    await captureKeyspace(admin);
    expect(await rdbSaves()).toBe(before + 1);
  } finally {
    db1.disconnect();
  }
});

describe('never on a server the library did not start', () => {
  let child: ChildProcess;
  let port: number;
  let dir: string;
  let other: Redis;
  beforeAll(async () => {
    port = await findFreePort();
    dir = mkdtempSync(join(tmpdir(), 'jcc-foreign-'));
    child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
    for (;;) {
      const pid = await pingAndIdentify(port).catch(() => undefined);
      if (pid === child.pid) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    other = new Redis(port, '127.0.0.1');
  });
  afterAll(async () => {
    other?.disconnect();
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends it no SAVE and no CONFIG, and writes no file', async () => {
    rdbCapture.minKeys = 0;
    await writeStrings(other, 50);
    await other.config('RESETSTAT');
    const snap = await captureKeyspace(other);
    expect(snap.entries.length).toBe(50 + 6 + 2 * INTEGER_LIKE.length + 3);
    const stats = await other.info('commandstats');
    // INFO and CLIENT INFO (read-only: is it ours? which database?), nothing else.
    expect(stats).not.toMatch(/cmdstat_save|cmdstat_config\|get|cmdstat_time/);
    expect(await rdbSaves(other)).toBe(0);
    expect(existsSync(join(dir, 'dump.rdb'))).toBe(false);
  });
});

it('a server of the library started with its own --dir (args): no SAVE, the usual path', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jcc-own-dir-'));
  const moved = await startRedisServer({ binary, args: ['--dir', dir] });
  const r = new Redis(moved.url);
  try {
    rdbCapture.minKeys = 0;
    await writeStrings(r, 20);
    expect((await captureKeyspace(r)).entries.length).toBeGreaterThan(20);
    expect(await rdbSaves(r)).toBe(0);
  } finally {
    r.disconnect();
    await moved.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  expect(existsSync(moved.dir)).toBe(false); // its private folder goes with it
});

describe('readRdb refuses what it does not know (the capture then reads the usual way)', () => {
  const visitor = { string() {}, collection() {}, other() {} };
  const header = (version: string) => Buffer.from(`REDIS${version}`, 'latin1');
  it.each([
    ['not an RDB file', Buffer.from('HELLO0010\xff', 'latin1')],
    ['a newer RDB version', Buffer.concat([header('0013'), Buffer.from([0xff])])],
    ['a truncated file', Buffer.concat([header('0010'), Buffer.from([0xfe, 0x00, 0x00, 0x03, 0x61])])],
    ['an unknown value type', Buffer.concat([header('0010'), Buffer.from([0xfe, 0x00, 0x16, 0x01, 0x61, 0x01, 0x62, 0xff])])],
    ['an unknown opcode', Buffer.concat([header('0010'), Buffer.from([0xf4, 0x00, 0x00, 0x00, 0xff])])],
    ['corrupt LZF data', Buffer.concat([header('0010'), Buffer.from([0xfe, 0x00, 0x00, 0x01, 0x61, 0xc3, 0x02, 0x05, 0x1f, 0x61, 0xff])])],
  ])('%s', (_name, file) => {
    expect(() => readRdb(file, 0, visitor)).toThrow(RdbUnsupportedError);
  });
  it('reads a minimal file', () => {
    const seen: string[] = [];
    const file = Buffer.concat([header('0010'), Buffer.from([0xfe, 0x00, 0xfb, 0x01, 0x00, 0x00, 0x01, 0x61, 0xc0, 0x2a, 0xff])]);
    expect(readRdb(file, 0, { string: (kb, ks, ke, vb, vs, ve) => seen.push(`${kb.toString('latin1', ks, ke)}=${vb.toString('latin1', vs, ve)}`), collection() {}, other() {} })).toEqual({ keys: 1, announced: 1 });
    expect(seen).toEqual(['a=42']);
  });
});
