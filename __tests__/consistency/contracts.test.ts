/**
 * Every contract option against a real redis-server and pg-mem: each option has a consistent case and an
 * inconsistent one, so no option can silently do nothing.
 */
import { cached, checkConsistency, defineCache, testDb, testRedis, type AnyCacheContract } from '../../src';

const redis = testRedis();
const db = testDb();

const kinds = async (contracts: AnyCacheContract[], strict = false) =>
  (await checkConsistency(redis, db, { contracts, strict })).inconsistencies.map((i) => `${i.keyText}: ${i.kind}`);

beforeEach(async () => {
  await db.query(`INSERT INTO users (id, name, email, active, version) VALUES
    (1, 'Tom', 'tom@example.com', true, 3), (2, 'Ann', NULL, true, 1), (3, 'Sam', 'sam@example.com', false, 7)`);
  await db.query(`INSERT INTO posts (id, user_id, title) VALUES (10, 1, 'Hello'), (11, 1, 'Again'), (12, 2, 'Hi')`);
});

describe('load', () => {
  it('may return one row object, an array, or none (null / undefined / [])', async () => {
    const one = defineCache({ key: 'one:{id}', load: async (q, { id }) => (await q.query('SELECT id, name FROM users WHERE id = $1', [id]))[0] ?? null });
    const none = defineCache({ key: 'none:{id}', load: () => undefined });
    await redis.set('one:1', JSON.stringify({ id: 1, name: 'Tom' }));
    await redis.set('one:2', JSON.stringify({ id: 2, name: 'Tom' }));
    await redis.set('one:4', JSON.stringify({ id: 4, name: 'Nobody' }));
    await redis.set('none:1', '{}');
    expect(await kinds([one, none])).toEqual(['none:1: orphaned', 'one:2: stale', 'one:4: orphaned']);
  });

  it('receives the key params as text, every param', async () => {
    const seen: Array<Record<string, string>> = [];
    const post = defineCache({
      key: 'post:{userId}:{postId}',
      load: (q, params) => (seen.push({ ...params }), q.query('SELECT id, title FROM posts WHERE user_id = $1 AND id = $2', [params.userId, params.postId])),
    });
    await redis.set('post:1:10', JSON.stringify({ id: 10, title: 'Hello' }));
    expect(await kinds([post])).toEqual([]);
    expect(seen).toEqual([{ userId: '1', postId: '10' }]);
  });

  it('a key holding one row whose load returns several is a load error, not a silent pick', async () => {
    const byUser = defineCache({ key: 'post-of:{userId}', load: (q, { userId }) => q.query('SELECT id FROM posts WHERE user_id = $1', [userId]) });
    await redis.set('post-of:1', '{"id": 10}');
    await expect(checkConsistency(redis, db, { contracts: [byUser] })).rejects.toMatchObject({
      code: 'CACHE_LOAD_FAILED',
      message: expect.stringContaining('2 rows came back for a key that holds one row'),
    });
  });

  it('a load that throws is reported with the key and the contract', async () => {
    const broken = defineCache({ key: 'broken:{id}', name: 'brokenContract', load: () => { throw new Error('boom'); } });
    await redis.set('broken:1', '{}');
    await expect(checkConsistency(redis, db, { contracts: [broken] })).rejects.toThrow(
      'Loading the rows for cached key broken:1 (contract brokenContract) failed: load threw: boom',
    );
  });
});

describe('table / where / orderBy (the declarative, batched form)', () => {
  it('selects by every key param, named after its column by default', async () => {
    const user = defineCache({ key: 'u:{id}', table: 'users' });
    await redis.set('u:1', JSON.stringify({ id: 1, name: 'Tom', email: 'tom@example.com', active: true, version: 3 }));
    await redis.set('u:2', JSON.stringify({ id: 2, name: 'Ann', email: null, active: false, version: 1 }));
    expect(await kinds([user])).toEqual(['u:2: stale']);
  });

  it('maps params to other columns with where, and several params to several columns', async () => {
    const post = defineCache({ key: 'post:{uid}:{pid}', table: 'posts', where: { user_id: 'uid', id: 'pid' }, fields: ['title'] });
    await redis.set('post:1:10', '{"title":"Hello"}');
    await redis.set('post:2:10', '{"title":"Hello"}'); // post 10 belongs to user 1
    await redis.set('post:2:12', '{"title":"Hi"}');
    expect(await kinds([post])).toEqual(['post:2:10: orphaned']);
  });

  it('reads many keys in batches and gives the same answers as key-by-key reads', async () => {
    const values = Array.from({ length: 40 }, (_, i) => `(${100 + i}, 'n${i}')`).join(', ');
    await db.query(`INSERT INTO users (id, name) VALUES ${values}`);
    const user = defineCache({ key: 'u:{id}', table: 'users', fields: ['id', 'name'] });
    const byLoad = defineCache({ key: 'u:{id}', load: (q, { id }) => q.query('SELECT id, name FROM users WHERE id = $1', [id]) });
    for (let i = 0; i < 40; i++) await redis.set(`u:${100 + i}`, JSON.stringify({ id: 100 + i, name: i % 7 === 0 ? 'stale' : `n${i}` }));
    await redis.set('u:0100', JSON.stringify({ id: 100, name: 'n0' })); // '0100' = 100 for the database, not for a string compare
    await redis.set('u:999', JSON.stringify({ id: 999, name: 'gone' }));
    const batched = await kinds([user]);
    expect(batched).toEqual(await kinds([byLoad]));
    expect(batched).toEqual(['u:100: stale', 'u:107: stale', 'u:114: stale', 'u:121: stale', 'u:128: stale', 'u:135: stale', 'u:999: orphaned']);
  });

  it('orders rows with orderBy, for many-rows values and lists', async () => {
    const titles = defineCache({ key: 'titles:{user_id}', table: 'posts', as: 'list', column: 'title', orderBy: 'id DESC' });
    await redis.rpush('titles:1', 'Again', 'Hello');
    await redis.rpush('titles:2', 'Hi');
    expect(await kinds([titles])).toEqual([]);
    await redis.del('titles:1');
    await redis.rpush('titles:1', 'Hello', 'Again');
    const report = await checkConsistency(redis, db, { contracts: [titles] });
    expect(report.inconsistencies.map((i) => [i.keyText, i.kind, i.detail])).toEqual([['titles:1', 'stale', 'same members, different order']]);
  });
});

describe('encodings (as)', () => {
  it("json (default): the row as a JSON string; many: true for the JSON array of rows", async () => {
    const posts = defineCache({ key: 'posts-of:{id}', load: (q, { id }) => q.query('SELECT id, title FROM posts WHERE user_id = $1 ORDER BY id', [id]), many: true });
    await redis.set('posts-of:1', JSON.stringify([{ id: 10, title: 'Hello' }, { id: 11, title: 'Again' }]));
    await redis.set('posts-of:3', '[]');
    await redis.set('posts-of:2', '[]');
    expect(await kinds([posts])).toEqual(['posts-of:2: stale']);
  });

  it('hash: column by column; NULL columns are absent fields; numbers and booleans as text', async () => {
    const user = defineCache({ key: 'h:{id}', table: 'users', as: 'hash' });
    await redis.hset('h:2', { id: '2', name: 'Ann', active: 'true', version: '1' });
    await redis.hset('h:1', { id: '1', name: 'Tom', email: 'tom@example.com', active: '1', version: '3' });
    const report = await checkConsistency(redis, db, { contracts: [user] });
    expect(report.inconsistencies.map((i) => [i.keyText, i.kind, i.detail])).toEqual([['h:1', 'stale', 'fields that differ: active']]);
  });

  it('string: one column as a plain string', async () => {
    const name = defineCache({ key: 'name:{id}', table: 'users', as: 'string', column: 'name' });
    const email = defineCache({ key: 'email:{id}', load: (q, { id }) => q.query('SELECT email FROM users WHERE id = $1', [id]), as: 'string' });
    await redis.set('name:1', 'Tom');
    await redis.set('name:3', 'Samuel');
    await redis.set('email:1', 'tom@example.com');
    await redis.set('email:2', ''); // the column is NULL: a read-through has nothing to store
    expect(await kinds([name, email])).toEqual(['email:2: stale', 'name:3: stale']);
  });

  it('list, set and zset: collections of one column, compared as lists, sets and scored sets', async () => {
    const list = defineCache({ key: 'post-ids:{user_id}', table: 'posts', as: 'list', column: 'id', orderBy: 'id' });
    const set = defineCache({ key: 'inactive', load: (q) => q.query('SELECT id FROM users WHERE NOT active'), as: 'set' });
    const zset = defineCache({ key: 'by-version', load: (q) => q.query('SELECT name, version FROM users'), as: 'zset', column: 'name', score: 'version' });
    await redis.rpush('post-ids:1', '10', '11');
    await redis.sadd('inactive', '3');
    await redis.zadd('by-version', 1, 'Ann', 3, 'Tom', 7, 'Sam');
    expect(await kinds([list, set, zset])).toEqual([]);
    await redis.zadd('by-version', 4, 'Tom');
    await redis.sadd('inactive', '1');
    const report = await checkConsistency(redis, db, { contracts: [list, set, zset] });
    expect(report.inconsistencies.map((i) => [i.keyText, i.kind, i.detail])).toEqual([
      ['by-version', 'stale', 'same members, different scores'],
      ['inactive', 'collection-drift', 'extra members: 1'],
    ]);
  });

  it('custom decode: a value stored in a format of its own (here base64 JSON with a prefix)', async () => {
    const packed = defineCache({
      key: 'packed:{id}',
      load: (q, { id }) => q.query('SELECT id, name FROM users WHERE id = $1', [id]),
      decode: (entry) => {
        if (entry.type !== 'string') throw new Error(`a ${entry.type}`);
        const text = String(entry.value);
        if (!text.startsWith('v1:')) throw new Error('unknown format');
        return JSON.parse(Buffer.from(text.slice(3), 'base64').toString());
      },
    });
    const pack = (v: unknown) => `v1:${Buffer.from(JSON.stringify(v)).toString('base64')}`;
    await redis.set('packed:1', pack({ id: 1, name: 'Tom' }));
    await redis.set('packed:2', pack({ id: 2, name: 'Anne' }));
    await redis.set('packed:3', 'garbage');
    const report = await checkConsistency(redis, db, { contracts: [packed] });
    expect(report.inconsistencies.map((i) => [i.keyText, i.kind, i.detail])).toEqual([
      ['packed:2', 'stale', 'fields that differ: name'],
      ['packed:3', 'undecodable', 'decode threw: unknown format'],
    ]);
    expect(report.inconsistencies[0]!.cached).toEqual({ id: 2, name: 'Anne' });
  });

  it('custom expected: what a read-through stores, when no encoding fits (here "name <email>")', async () => {
    const label = defineCache({
      key: 'label:{id}',
      table: 'users',
      as: 'string',
      expected: (rows) => (rows[0] ? `${rows[0].name as string} <${(rows[0].email as string | null) ?? '-'}>` : undefined),
    });
    await redis.set('label:1', 'Tom <tom@example.com>');
    await redis.set('label:2', 'Ann <->');
    await redis.set('label:3', 'Sam <old@example.com>');
    expect(await kinds([label])).toEqual(['label:3: stale']);
  });
});

it('fields: the cache holds a projection of the row', async () => {
  const card = defineCache({ key: 'card:{id}', table: 'users', fields: ['name', 'email'] });
  await redis.set('card:1', JSON.stringify({ name: 'Tom', email: 'tom@example.com' }));
  await redis.set('card:2', JSON.stringify({ name: 'Ann', email: null, version: 1 })); // a column too many
  await redis.set('card:3', JSON.stringify({ name: 'Sam' })); // a column too few
  expect(await kinds([card])).toEqual(['card:2: stale', 'card:3: stale']);
});

describe('notFound: the explicit "not found" marker', () => {
  it.each([
    ['a string (the whole value)', '__none__' as const],
    ['a RegExp', /^__none__$/],
    ['a predicate on the entry', (e: { type: string; value: unknown }) => e.type === 'string' && e.value === '__none__'],
  ])('as %s: consistent while the row is absent, stale once it exists', async (_name, notFound) => {
    const user = defineCache({ key: 'nf:{id}', table: 'users', fields: ['id', 'name'], notFound: notFound as never });
    await redis.set('nf:9', '__none__');
    await redis.set('nf:1', '__none__');
    await redis.set('nf:2', '{"id":2,"name":"Ann"}');
    expect(await kinds([user])).toEqual(['nf:1: stale-not-found']);
  });
});

describe('lease tokens and versions: more than data in the same key', () => {
  // The fix of docs/races.md #1: on a miss, SET k <token> NX PX; the fill replaces the token only if it is still there.
  const leased = defineCache({
    key: 'user:{id}',
    table: 'users',
    fields: ['id', 'name'],
    skip: 'lease:',
  });

  it('skip: an in-flight lease token holds no data and is not compared', async () => {
    await redis.set('user:1', 'lease:7f3a', 'PX', 5000);
    await redis.set('user:2', '{"id":2,"name":"Ann"}');
    const report = await checkConsistency(redis, db, { contracts: [leased] });
    expect(report).toMatchObject({ keys: 2, checked: 1, skipped: 1, inconsistencies: [] });
    await redis.set('user:1', 'not-a-lease');
    expect(await kinds([leased])).toEqual(['user:1: undecodable']);
  });

  it('skip as a RegExp or a predicate', async () => {
    const re = defineCache({ key: 'user:{id}', table: 'users', skip: /^[0-9a-f]{32}$/ });
    const fn = defineCache({ key: 'user:{id}', table: 'users', skip: (e) => e.type === 'hash' });
    await redis.set('user:1', '0123456789abcdef0123456789abcdef');
    await redis.hset('user:2', { lease: 'x' });
    expect(await kinds([re])).toEqual(['user:2: wrong-type']);
    expect(await kinds([fn])).toEqual(['user:1: undecodable']);
  });

  // A versioned cache: { v, data } written with set-if-newer; a delete leaves a tombstone { v, deleted: true }.
  const versioned = defineCache({
    key: 'vuser:{id}',
    table: 'users',
    fields: ['id', 'name'],
    decode: (entry) => {
      const stored = JSON.parse(String(entry.value)) as { v: number; data?: unknown; deleted?: boolean; filling?: boolean };
      if (stored.filling) return cached.notCached;
      if (stored.deleted) return cached.notFound;
      return cached.version(stored.v, stored.data);
    },
  });

  it('versioned entries: the version is compared with the row version column, then the data', async () => {
    await redis.set('vuser:1', JSON.stringify({ v: 3, data: { id: 1, name: 'Tom' } }));
    await redis.set('vuser:2', JSON.stringify({ v: 0, data: { id: 2, name: 'Ann' } }));
    await redis.set('vuser:3', JSON.stringify({ v: 7, data: { id: 3, name: 'Samuel' } }));
    const report = await checkConsistency(redis, db, { contracts: [versioned] });
    expect(report.inconsistencies.map((i) => [i.keyText, i.kind, i.detail])).toEqual([
      ['vuser:2', 'stale', 'version 0, the row has version 1'],
      ['vuser:3', 'stale', 'fields that differ: name'],
    ]);
  });

  it('a version alone (no data) is compared on its own; versionColumn names another column', async () => {
    const byId = defineCache({ key: 'ver:{id}', table: 'users', versionColumn: 'id', decode: (e) => cached.version(String(e.value)) });
    await redis.set('ver:1', '1');
    await redis.set('ver:2', '5');
    await redis.set('ver:4', '4');
    const report = await checkConsistency(redis, db, { contracts: [byId] });
    expect(report.inconsistencies.map((i) => [i.keyText, i.kind, i.cached, i.expected])).toEqual([
      ['ver:2', 'stale', { id: '5' }, { id: 2 }],
      ['ver:4', 'orphaned', { version: '4' }, undefined],
    ]);
  });

  it('tombstones: "not cached" is skipped, "not found" must match an absent row', async () => {
    await redis.set('vuser:1', JSON.stringify({ v: 4, filling: true }));
    await redis.set('vuser:9', JSON.stringify({ v: 2, deleted: true }));
    expect(await kinds([versioned])).toEqual([]);
    await redis.set('vuser:2', JSON.stringify({ v: 2, deleted: true }));
    expect(await kinds([versioned])).toEqual(['vuser:2: stale-not-found']);
  });
});

it('ignore: bookkeeping keys (generation counters, locks) are covered but never compared', async () => {
  const user = defineCache({ key: 'user:{id}', table: 'users', fields: ['id'] });
  const generation = defineCache({ key: 'users:generation', ignore: true });
  const locks = defineCache({ key: 'lock:{resource}', ignore: true });
  await redis.incr('users:generation');
  await redis.set('lock:user:1', 'owner-1', 'PX', 1000); // {resource} stops at ':', so this is not covered...
  await redis.set('lock:users', 'owner-2');
  const report = await checkConsistency(redis, db, { contracts: [user, generation, locks], strict: true });
  expect(report).toMatchObject({ ignored: 2, unmapped: 1 });
  expect(report.inconsistencies.map((i) => `${i.keyText}: ${i.kind}`)).toEqual(['lock:user:1: unmapped']);
});

it('the first contract whose pattern matches a key covers it', async () => {
  const special = defineCache({ key: 'user:admin', ignore: true });
  const user = defineCache({ key: 'user:{id}', table: 'users', fields: ['id'] });
  await redis.set('user:admin', 'not a row');
  expect(await kinds([special, user])).toEqual([]);
  // In the other order user:{id} covers user:admin, and reading users WHERE id = 'admin' fails.
  await expect(kinds([user, special])).rejects.toThrow(
    'Loading the rows for cached key user:admin (contract user:{id}) failed: testDb() (pg-mem): invalid input syntax for integer: admin\n',
  );
});

it('keyFor builds keys from params, and match reads them back', () => {
  const post = defineCache({ key: 'post:{userId}:{postId}', ignore: true });
  expect(post.keyFor({ userId: 1, postId: 10n })).toBe('post:1:10');
  expect(post.match('post:1:10')).toEqual({ userId: '1', postId: '10' });
  expect(post.match('post:1')).toBeUndefined();
  const tagged = defineCache({ key: 'user:{{{id}}}', ignore: true }); // a Redis Cluster hash tag
  expect(tagged.keyFor({ id: 7 })).toBe('user:{7}');
  expect(tagged.match('user:{7}')).toEqual({ id: '7' });
});
