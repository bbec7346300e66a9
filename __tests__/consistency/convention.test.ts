/**
 * The default convention, with no contract registered or passed: `<table>:<id>` holds the row
 * `SELECT * FROM <table> WHERE id = <id>` as JSON, for tables with an `id` column, ids valid for its type.
 */
import { newDb } from 'pg-mem';
import { checkConsistency, testDb, testRedis } from '../../src';

const redis = testRedis();
const db = testDb();

const row = { id: 1, name: 'Tom', email: 'tom@example.com', active: true, version: 1 };

beforeEach(() => db.query(`INSERT INTO users (id, name, email) VALUES (1, 'Tom', 'tom@example.com')`));

it('makes the one-line assertion work for the common case', async () => {
  await redis.set('users:1', JSON.stringify(row));
  await expect(redis).toBeConsistentWith(db);
  await db.query(`UPDATE users SET name = 'Jerry' WHERE id = 1`);
  await expect(redis).not.toBeConsistentWith(db);
});

it('covers every table with an id column, in table order, and reports each kind', async () => {
  await db.query(`INSERT INTO posts (id, user_id, title) VALUES (10, 1, 'Hello')`);
  await redis.set('users:1', JSON.stringify({ ...row, name: 'Old' }));
  await redis.set('users:2', JSON.stringify({ ...row, id: 2 }));
  await redis.set('posts:10', JSON.stringify({ id: 10, user_id: 1, title: 'Hello' }));
  const report = await checkConsistency(redis, db);
  expect(report.convention).toBe(true);
  expect(report.contracts).toEqual(['posts:{id} (default convention)', 'users:{id} (default convention)']);
  expect(report.inconsistencies.map((i) => `${i.keyText}: ${i.kind}`)).toEqual(['users:1: stale', 'users:2: orphaned']);
});

it('leaves keys alone that are not <table>:<id>: other prefixes, more segments, ids the column cannot hold', async () => {
  await redis.set('user:1', 'not the convention: no table "user"');
  await redis.set('users:1:profile', 'three segments');
  await redis.set('users:active', 'not an integer id');
  await redis.set('users:01x', 'not an integer id either');
  const report = await checkConsistency(redis, db);
  expect(report).toMatchObject({ keys: 4, checked: 0, unmapped: 4, inconsistencies: [] });
  const strict = await checkConsistency(redis, db, { strict: true });
  expect(strict.inconsistencies.map((i) => i.kind)).toEqual(['unmapped', 'unmapped', 'unmapped', 'unmapped']);
});

// These create tables: on a pg-mem database of their own (testDb() is reset by restoring a backup of its schema).
it('accepts ids by column type: digits for integer ids, UUIDs for uuid ids, anything for text ids', async () => {
  const mem = newDb();
  mem.public.none(`CREATE TABLE tokens (id uuid PRIMARY KEY, owner text);
    CREATE TABLE tags (id text PRIMARY KEY, label text);
    CREATE TABLE counters (id bigint PRIMARY KEY, n integer);
    INSERT INTO tokens VALUES ('5b6c8a52-2a4e-4d7c-9a57-1a0b2c3d4e5f', 'tom');
    INSERT INTO tags VALUES ('red-1', 'Red');
    INSERT INTO counters VALUES (-3, 0);`);
  await redis.set('tokens:5b6c8a52-2a4e-4d7c-9a57-1a0b2c3d4e5f', JSON.stringify({ id: '5b6c8a52-2a4e-4d7c-9a57-1a0b2c3d4e5f', owner: 'ann' }));
  await redis.set('tokens:not-a-uuid', '{}');
  await redis.set('tags:red-1', JSON.stringify({ id: 'red-1', label: 'Red' }));
  await redis.set('tags:blue', JSON.stringify({ id: 'blue', label: 'Blue' }));
  await redis.set('counters:-3', JSON.stringify({ id: -3, n: 0 }));
  await redis.set('counters:x', '{}');
  const report = await checkConsistency(redis, mem);
  expect(report.contracts).toEqual(['counters:{id} (default convention)', 'tags:{id} (default convention)', 'tokens:{id} (default convention)']);
  expect(report.inconsistencies.map((i) => `${i.keyText}: ${i.kind}`)).toEqual([
    'tags:blue: orphaned',
    'tokens:5b6c8a52-2a4e-4d7c-9a57-1a0b2c3d4e5f: stale',
  ]);
  expect(report.unmapped).toBe(2);
});

it('compares the JSON form of the row: a Date column is its ISO string', async () => {
  const mem = newDb();
  mem.public.none(`CREATE TABLE events (id integer PRIMARY KEY, at timestamptz); INSERT INTO events VALUES (1, '2024-05-01T10:00:00Z')`);
  const [event] = mem.public.many('SELECT * FROM events');
  await redis.set('events:1', JSON.stringify(event)); // what a service caching the row stores
  await expect(redis).toBeConsistentWith(mem);
  expect(JSON.parse((await redis.get('events:1'))!)).toEqual({ id: 1, at: '2024-05-01T10:00:00.000Z' });
});

it('covers no key when no table has an id column', async () => {
  const mem = newDb();
  mem.public.none('CREATE TABLE kv (k text PRIMARY KEY, v text)');
  await redis.set('kv:a', '{}');
  const report = await checkConsistency(redis, mem);
  expect(report).toMatchObject({ convention: true, contracts: [], unmapped: 1, inconsistencies: [] });
});

it('is not used once contracts are passed (an empty list too: nothing is covered)', async () => {
  await redis.set('users:1', 'garbage');
  await expect(redis).not.toBeConsistentWith(db);
  await expect(redis).toBeConsistentWith(db, []);
  await expect(redis).not.toBeConsistentWith(db, [], { strict: true });
});
