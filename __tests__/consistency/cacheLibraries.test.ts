/**
 * Cache libraries' stored formats, with the real libraries writing to this worker's redis-server the way their
 * docs show: Keyv + @keyv/redis, cache-manager 7 (through Keyv), BentoCache with its Redis driver (run in a
 * plain Node process: it is an ES module only). A contract with a codec compares the value inside the
 * library's envelope; snapshots print the envelopes' clock fields stably.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import KeyvRedis from '@keyv/redis';
import { createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import {
  bentocacheCodec,
  captureKeyspace,
  checkConsistency,
  defineCache,
  keyvCodec,
  printKeyspace,
  redisUrl,
  testDb,
  testRedis,
  type AnyCacheContract,
} from '../../src';

const redis = testRedis();
const db = testDb();
const BENTOCACHE = join(__dirname, '..', 'fixtures', 'cache-libraries', 'bentocache.mjs');

const kinds = async (contracts: AnyCacheContract[]) =>
  (await checkConsistency(redis, db, { contracts })).inconsistencies.map((i) => `${i.keyText}: ${i.kind}`);

const userRow = async (id: number) => (await db.query('SELECT * FROM users WHERE id = $1', [id]))[0]!;

/** What a print of the keyspace shows, for comparing two runs. */
const printed = async () => printKeyspace(await captureKeyspace(redis), { maxTextLength: Infinity });

const opened: Array<{ disconnect(): Promise<unknown> }> = [];
/** A Keyv on this test's redis-server, as Keyv's docs write it. */
function keyv(options: { namespace?: string; useKeyPrefix?: boolean } = {}): Keyv {
  const k = new Keyv({ store: new KeyvRedis(redisUrl()), ...options });
  opened.push(k);
  return k;
}

/** Fills keys through BentoCache's getOrSet in a Node process; resolves once it has exited. */
type BentoItem = { key: string; value: unknown; ttl?: string; namespace?: string; tags?: string[] } | { deleteByTag: string[]; namespace?: string };
async function bentocache(items: BentoItem[]): Promise<void> {
  await promisify(execFile)(process.execPath, [BENTOCACHE, redisUrl(), JSON.stringify(items)]);
}

beforeEach(async () => {
  await db.query(`INSERT INTO users (id, name, email, active, version) VALUES
    (1, 'Tom', 'tom@example.com', true, 3), (2, ':colon', NULL, true, 1)`);
});

afterEach(async () => {
  await Promise.all(opened.splice(0).map((k) => k.disconnect()));
});

describe('keyvCodec', () => {
  const userById = defineCache({ key: 'user:{id}', table: 'users', codec: keyvCodec({ namespace: 'users' }) });

  it('compares the value inside Keyv envelopes under namespace::namespace:key: consistent after a fill, stale after an update', async () => {
    const users = keyv({ namespace: 'users' });
    for (const id of [1, 2]) await users.set(`user:${id}`, await userRow(id), 60_000);
    expect((await redis.keys('*')).sort()).toEqual(['users::users:user:1', 'users::users:user:2']);
    await expect(redis).toBeConsistentWith(db, [userById]);

    await db.query("UPDATE users SET name = 'Thomas' WHERE id = 1");
    await expect(redis).not.toBeConsistentWith(db, [userById]);
    expect(await kinds([userById])).toEqual(['users::users:user:1: stale']);
    const [stale] = (await checkConsistency(redis, db, { contracts: [userById] })).inconsistencies;
    expect(stale).toMatchObject({ contract: 'user:{id}', cached: { name: 'Tom' }, expected: { name: 'Thomas' }, detail: 'fields that differ: name' });
  });

  it("reads keyv's escapes (a string starting with ':' is stored as '::...'), and a row deleted is orphaned", async () => {
    const users = keyv({ namespace: 'users' });
    await users.set('user:2', await userRow(2));
    expect(await redis.get('users::users:user:2')).toContain('"name":"::colon"');
    expect(await kinds([userById])).toEqual([]);
    await db.query('DELETE FROM users WHERE id = 2');
    expect(await kinds([userById])).toEqual(['users::users:user:2: orphaned']);
  });

  it('maps cache-manager 7 keys (its Keyv store, default namespace keyv) and useKeyPrefix: false', async () => {
    const cache = createCache({ stores: [keyv()] });
    opened.push(cache);
    await cache.wrap('user:1', () => userRow(1), 60_000);
    const bare = keyv({ namespace: 'bare', useKeyPrefix: false });
    await bare.set('user:2', await userRow(2), 60_000);
    expect((await redis.keys('*')).sort()).toEqual(['bare::user:2', 'keyv::keyv:user:1']);

    const viaCacheManager = defineCache({ key: 'user:{id}', table: 'users', codec: keyvCodec() });
    const noPrefix = defineCache({ key: 'user:{id}', name: 'bare', table: 'users', codec: keyvCodec({ namespace: 'bare', useKeyPrefix: false }) });
    expect(viaCacheManager.keyFor({ id: 1 })).toBe('keyv::keyv:user:1');
    expect(await kinds([viaCacheManager, noPrefix])).toEqual([]);
    await db.query("UPDATE users SET email = 'x@example.com'");
    expect(await kinds([viaCacheManager, noPrefix])).toEqual(['bare::user:2: stale', 'keyv::keyv:user:1: stale']);
  });

  it("skips an entry past keyv's own expires (keyv no longer returns it), whatever its Redis TTL", async () => {
    // As keyv stores it, with an expiry already passed but the key still in Redis.
    await redis.set('users::users:user:1', JSON.stringify({ value: { ...(await userRow(1)), name: 'Old' }, expires: Date.now() - 1000 }));
    const report = await checkConsistency(redis, db, { contracts: [userById] });
    expect(report.inconsistencies).toEqual([]);
    expect(report).toMatchObject({ keys: 1, checked: 0, skipped: 1 });
  });

  it('reports a value that is not a Keyv envelope as undecodable, and a hash as the wrong type', async () => {
    await redis.set('users::users:user:1', JSON.stringify(await userRow(1)));
    await redis.hset('users::users:user:2', 'value', '{}');
    const report = await checkConsistency(redis, db, { contracts: [userById] });
    expect(report.inconsistencies.map((i) => [i.keyText, i.kind, i.detail])).toEqual([
      ['users::users:user:1', 'undecodable', expect.stringContaining('unexpected field "id"')],
      ['users::users:user:2', 'wrong-type', 'keyv stores its values in a string, the key is a hash'],
    ]);
  });

  it('prints the expires of a Keyv envelope relative to the capture: the same snapshot on every run', async () => {
    const users = keyv({ namespace: 'users' });
    const fill = async () => {
      await users.set('user:1', await userRow(1), 60_000);
      await users.set('user:2', await userRow(2));
    };
    await fill();
    const first = await printed();
    const firstRaw = await redis.get('users::users:user:1');
    await redis.flushdb();
    // A second run, later: keyv writes another expires.
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'clearImmediate', 'queueMicrotask', 'performance', 'hrtime'] });
    try {
      jest.setSystemTime(Date.now() + 86_400_000);
      await fill();
      expect(await redis.get('users::users:user:1')).not.toBe(firstRaw);
      expect(await printed()).toBe(first);
      await expect(redis).toMatchKeyspaceSnapshot();
    } finally {
      jest.useRealTimers();
    }
    expect(first).toContain('"expires": <expires in ≤ 1m>');
    expect(printKeyspace(await captureKeyspace(redis, { cacheEnvelopes: 'exact' }))).toMatch(/"expires": \d{13},/);
  });
});

describe('bentocacheCodec', () => {
  const userById = defineCache({ key: 'user:{id}', table: 'users', codec: bentocacheCodec() });

  it('compares the value inside BentoCache entries under bentocache:key: consistent after getOrSet, stale after an update', async () => {
    await bentocache([
      { key: 'user:1', value: await userRow(1), ttl: '1m', tags: ['users'] },
      { key: 'user:2', value: await userRow(2), ttl: '1m' },
    ]);
    expect((await redis.keys('bentocache:user:*')).sort()).toEqual(['bentocache:user:1', 'bentocache:user:2']);
    await expect(redis).toBeConsistentWith(db, [userById]);

    await db.query("UPDATE users SET name = 'Thomas' WHERE id = 1");
    await expect(redis).not.toBeConsistentWith(db, [userById]);
    expect(await kinds([userById])).toEqual(['bentocache:user:1: stale']);
  });

  it('maps a namespace (bentocache:<namespace>:key) and skips an entry past its logicalExpiration', async () => {
    await bentocache([{ key: '1', value: await userRow(1), ttl: '1m', namespace: 'users' }]);
    const inNamespace = defineCache({ key: '{id}', table: 'users', codec: bentocacheCodec({ namespace: 'users' }) });
    expect(inNamespace.keyFor({ id: 1 })).toBe('bentocache:users:1');
    expect(await kinds([inNamespace])).toEqual([]);
    await db.query("UPDATE users SET name = 'Thomas' WHERE id = 1");
    expect(await kinds([inNamespace])).toEqual(['bentocache:users:1: stale']);

    const stored = JSON.parse((await redis.get('bentocache:users:1'))!) as { logicalExpiration: number };
    stored.logicalExpiration = Date.now() - 1000; // logically expired, kept for a grace period
    await redis.set('bentocache:users:1', JSON.stringify(stored));
    expect(await checkConsistency(redis, db, { contracts: [inNamespace] })).toMatchObject({ inconsistencies: [], skipped: 1 });
  });

  it("skips an entry invalidated by deleteByTag (BentoCache no longer returns it); an untagged one is still compared", async () => {
    await bentocache([
      { key: 'user:1', value: await userRow(1), ttl: '1m', tags: ['users'] },
      { key: 'user:2', value: await userRow(2), ttl: '1m' },
    ]);
    await db.query("UPDATE users SET name = 'Changed'");
    expect(await kinds([userById])).toEqual(['bentocache:user:1: stale', 'bentocache:user:2: stale']);
    await bentocache([{ deleteByTag: ['users'] }]);
    expect(await redis.exists('bentocache:user:1', 'bentocache:___bc:t:users')).toBe(2);
    expect(await kinds([userById])).toEqual(['bentocache:user:2: stale']);
    const tagKeys = defineCache({ key: '___bc:t:{tag}', ignore: true, codec: bentocacheCodec() });
    const strict = await checkConsistency(redis, db, { contracts: [userById, tagKeys], strict: true });
    expect(strict).toMatchObject({ ignored: 1, unmapped: 0, skipped: 1 });

    // The tag key holds the invalidation time as its value: printed as a placeholder too.
    const first = await printed();
    expect(first).toMatch(/"bentocache:___bc:t:users" \(string, expires in ≤ 30d\) \{\n {4}"createdAt": <timestamp>,\n {4}"logicalExpiration": <expires in ≤ 30d>,\n {4}"tags": \[\],\n {4}"value": <timestamp>,/);
  });

  it('prints logicalExpiration and createdAt stably: two runs print the same snapshot', async () => {
    const fill = async () => bentocache([{ key: 'user:1', value: await userRow(1), ttl: '1m' }, { key: 'user:2', value: await userRow(2), ttl: '1h' }]);
    await fill();
    const firstRaw = await redis.get('bentocache:user:1');
    const first = await printed();
    await redis.flushdb();
    await fill();
    expect(await printed()).toBe(first);
    expect(first).toContain('"createdAt": <timestamp>');
    expect(first).toContain('"logicalExpiration": <expires in ≤ 1m>');
    expect(firstRaw).toMatch(/"createdAt":\d{13}/);
    expect(await captureKeyspace(redis)).toMatchSnapshot();
  });
});
