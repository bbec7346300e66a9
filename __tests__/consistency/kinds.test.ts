/**
 * Every kind of inconsistency, found by the comparison against a real redis-server (testRedis()) and the
 * embedded pg-mem database (testDb()). Each case also shows the consistent state passes, so a check that
 * could never fail would be caught.
 */
import { checkConsistency, defineCache, testDb, testRedis, type Inconsistency } from '../../src';

const redis = testRedis();
const db = testDb();

const userById = defineCache({
  key: 'user:{id}',
  load: (q, { id }) => q.query('SELECT id, name, email FROM users WHERE id = $1', [id]),
});
const userHash = defineCache({ key: 'user-hash:{id}', table: 'users', where: { id: 'id' }, as: 'hash', fields: ['id', 'name', 'email'] });
const activeIds = defineCache({ key: 'users:active', load: (q) => q.query('SELECT id FROM users WHERE active ORDER BY id'), as: 'set' });
const userOrNone = defineCache({
  key: 'user-or-none:{id}',
  load: (q, { id }) => q.query('SELECT id, name, email FROM users WHERE id = $1', [id]),
  notFound: 'null',
});

const contracts = [userById, userHash, activeIds, userOrNone];

const summary = (list: Inconsistency[]) => list.map((i) => ({ key: i.keyText, kind: i.kind, detail: i.detail }));

async function seed(): Promise<void> {
  await db.query(`INSERT INTO users (id, name, email, active) VALUES (1, 'Tom', 'tom@example.com', true), (2, 'Ann', 'ann@example.com', false)`);
}

it('a cache that equals a fresh read-through is consistent', async () => {
  await seed();
  await redis.set('user:1', JSON.stringify({ id: 1, name: 'Tom', email: 'tom@example.com' }));
  await redis.hset('user-hash:1', { id: '1', name: 'Tom', email: 'tom@example.com' });
  await redis.sadd('users:active', '1');
  await redis.set('user-or-none:9', 'null');
  const report = await checkConsistency(redis, db, { contracts });
  expect(report).toMatchObject({ keys: 4, checked: 4, inconsistencies: [] });
  await expect(redis).toBeConsistentWith(db, contracts);
});

it('stale: the cached value differs from a fresh read-through', async () => {
  await seed();
  await redis.set('user:1', JSON.stringify({ id: 1, name: 'Tom', email: 'tom@example.com' }));
  await db.query(`UPDATE users SET name = 'Jerry' WHERE id = 1`);
  const report = await checkConsistency(redis, db, { contracts });
  expect(summary(report.inconsistencies)).toEqual([{ key: 'user:1', kind: 'stale', detail: 'fields that differ: name' }]);
  expect(report.inconsistencies[0]).toMatchObject({
    cached: { id: 1, name: 'Tom', email: 'tom@example.com' },
    expected: { id: 1, name: 'Jerry', email: 'tom@example.com' },
    type: 'string',
    ttlMs: null,
    contract: 'user:{id}',
  });
  await expect(redis).not.toBeConsistentWith(db, contracts);
});

it('orphaned: the key holds a row that no longer exists', async () => {
  await seed();
  await redis.set('user:2', JSON.stringify({ id: 2, name: 'Ann', email: 'ann@example.com' }), 'EX', 60);
  await expect(redis).toBeConsistentWith(db, contracts);
  await db.query('DELETE FROM users WHERE id = 2');
  const report = await checkConsistency(redis, db, { contracts });
  expect(summary(report.inconsistencies)).toEqual([{ key: 'user:2', kind: 'orphaned', detail: undefined }]);
  expect(report.inconsistencies[0]!.expected).toBeUndefined();
  expect(report.inconsistencies[0]!.ttlMs).toBeGreaterThan(0);
});

it('stale not-found marker: the key says "no such row" but the row exists now', async () => {
  await redis.set('user-or-none:1', 'null');
  await expect(redis).toBeConsistentWith(db, contracts);
  await seed();
  const report = await checkConsistency(redis, db, { contracts });
  expect(summary(report.inconsistencies)).toEqual([
    { key: 'user-or-none:1', kind: 'stale-not-found', detail: undefined },
  ]);
  expect(report.inconsistencies[0]!.expected).toEqual({ id: 1, name: 'Tom', email: 'tom@example.com' });
});

it('a not-found marker that is not declared is data, so it is orphaned or stale, never consistent by accident', async () => {
  await redis.set('user:5', 'null');
  const report = await checkConsistency(redis, db, { contracts });
  expect(summary(report.inconsistencies)).toEqual([{ key: 'user:5', kind: 'orphaned', detail: undefined }]);
});

it('partial hash: fields missing (a field-wise HSET on an absent key) or extra', async () => {
  await seed();
  await redis.hset('user-hash:1', { name: 'Tom' }); // docs/races.md #9: HSET created { name } only
  await redis.hset('user-hash:2', { id: '2', name: 'Ann', email: 'ann@example.com', nickname: 'annie' });
  const report = await checkConsistency(redis, db, { contracts });
  expect(summary(report.inconsistencies)).toEqual([
    { key: 'user-hash:1', kind: 'partial-hash', detail: 'missing fields: email, id' },
    { key: 'user-hash:2', kind: 'partial-hash', detail: 'extra fields: nickname' },
  ]);
});

it('a hash with every field but a changed value is stale, not partial', async () => {
  await seed();
  await redis.hset('user-hash:1', { id: '1', name: 'Old', email: 'tom@example.com' });
  const report = await checkConsistency(redis, db, { contracts });
  expect(summary(report.inconsistencies)).toEqual([{ key: 'user-hash:1', kind: 'stale', detail: 'fields that differ: name' }]);
});

it('collection drift: members missing or extra', async () => {
  await seed();
  await db.query(`INSERT INTO users (id, name, active) VALUES (3, 'Sam', true)`);
  await redis.sadd('users:active', '1', '2'); // 2 is not active; 3 is missing
  const report = await checkConsistency(redis, db, { contracts });
  expect(summary(report.inconsistencies)).toEqual([
    { key: 'users:active', kind: 'collection-drift', detail: 'missing members: 3; extra members: 2' },
  ]);
  expect(report.inconsistencies[0]).toMatchObject({ cached: ['1', '2'], expected: ['1', '3'] });
});

it('unmapped keys are counted, and reported only in strict mode', async () => {
  await redis.set('session:abc', 'whatever');
  await redis.set('user:x:profile', '{}');
  const loose = await checkConsistency(redis, db, { contracts });
  expect(loose).toMatchObject({ unmapped: 2, checked: 0, inconsistencies: [] });
  await expect(redis).toBeConsistentWith(db, contracts);

  const strict = await checkConsistency(redis, db, { contracts, strict: true });
  expect(summary(strict.inconsistencies)).toEqual([
    { key: 'session:abc', kind: 'unmapped', detail: undefined },
    { key: 'user:x:profile', kind: 'unmapped', detail: undefined },
  ]);
  await expect(redis).not.toBeConsistentWith(db, contracts, { strict: true });
});

it('wrong type and undecodable values are inconsistencies too', async () => {
  await seed();
  await redis.hset('user:1', { id: '1' });
  await redis.set('user:2', '{"id": 2, "name": "An');
  const report = await checkConsistency(redis, db, { contracts });
  expect(summary(report.inconsistencies)).toEqual([
    { key: 'user:1', kind: 'wrong-type', detail: 'the contract stores JSON in a string, the key is a hash' },
    { key: 'user:2', kind: 'undecodable', detail: expect.stringMatching(/^not valid JSON \(/) },
  ]);
});

it('reports inconsistencies sorted by key, whatever order Redis returns them in', async () => {
  for (let id = 30; id > 0; id--) await redis.set(`user:${id}`, JSON.stringify({ id, name: 'ghost', email: null }));
  const report = await checkConsistency(redis, db, { contracts });
  expect(report.inconsistencies.map((i) => i.keyText)).toEqual(
    Array.from({ length: 30 }, (_, i) => `user:${i + 1}`).sort(),
  );
});

it('only reads keys matching `match`', async () => {
  await redis.set('user:1', 'stale garbage');
  await redis.sadd('users:active', '7');
  const report = await checkConsistency(redis, db, { contracts, match: 'users:*' });
  expect(report.keys).toBe(1);
  expect(summary(report.inconsistencies)).toEqual([{ key: 'users:active', kind: 'collection-drift', detail: 'extra members: 7' }]);
});
