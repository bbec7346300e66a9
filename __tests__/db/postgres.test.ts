/**
 * node-postgres Pool and Client against the real PostgreSQL on this machine (127.0.0.1:5432, db `test`).
 * The table is this file's own (`postgres_test_<random>`), dropped afterwards.
 */
import { randomBytes } from 'node:crypto';
import { Client, Pool } from 'pg';
import { checkConsistency, defineCache, testRedis, toQueryable } from '../../src';

const redis = testRedis();
const table = `postgres_test_${randomBytes(4).toString('hex')}`;
const connection = { host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' };
const pool = new Pool(connection);
const client = new Client(connection);

beforeAll(async () => {
  await client.connect();
  await pool.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, name text NOT NULL, balance bigint NOT NULL, created date NOT NULL)`);
});
afterAll(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await client.end();
  await pool.end();
});
beforeEach(async () => {
  await pool.query(`DELETE FROM ${table}`);
  await pool.query(`INSERT INTO ${table} VALUES (1, 'Tom', 10, '2024-01-02'), (2, 'Ann', 9007199254740993, '2024-03-04')`);
});

const byLoad = defineCache({ key: 'acct:{id}', load: (q, { id }) => q.query(`SELECT id, name, balance FROM ${table} WHERE id = $1`, [id]) });
const byTable = defineCache({ key: 'acct-t:{id}', table, fields: ['id', 'name', 'balance'] });

async function cacheRowsAsTheServiceWould(prefix: string): Promise<void> {
  // node-postgres returns bigint columns as strings: a service caching rows stores them that way.
  const { rows } = await pool.query(`SELECT id, name, balance FROM ${table}`);
  for (const row of rows) await redis.set(`${prefix}:${row.id}`, JSON.stringify(row));
}

it.each([
  ['Pool', () => pool],
  ['Client', () => client],
])('a node-postgres %s is a database handle: consistent, then stale and orphaned', async (_name, handle) => {
  expect(toQueryable(handle())).toMatchObject({ kind: 'node-postgres', dialect: 'postgres' });
  expect(toQueryable(handle()).describe()).toMatch(/^node-postgres (Pool|Client) \(127\.0\.0\.1:5432\/test\)$/);
  await cacheRowsAsTheServiceWould('acct');
  await cacheRowsAsTheServiceWould('acct-t');
  await expect(redis).toBeConsistentWith(handle(), [byLoad, byTable]);
  await pool.query(`UPDATE ${table} SET balance = balance + 1 WHERE id = 2`);
  await pool.query(`DELETE FROM ${table} WHERE id = 1`);
  const report = await checkConsistency(redis, handle(), { contracts: [byLoad, byTable] });
  expect(report.inconsistencies.map((i) => `${i.keyText}: ${i.kind}`)).toEqual([
    'acct-t:1: orphaned',
    'acct-t:2: stale',
    'acct:1: orphaned',
    'acct:2: stale',
  ]);
  expect(report.inconsistencies[1]).toMatchObject({ cached: { balance: '9007199254740993' }, expected: { balance: '9007199254740994' } });
});

it('the table form batches keys into IN (...) reads and falls back key by key for the rest', async () => {
  const values = Array.from({ length: 1200 }, (_, i) => `(${i + 10}, 'n${i}', ${i}, '2024-01-01')`).join(', ');
  await pool.query(`INSERT INTO ${table} VALUES ${values}`);
  const statements: string[] = [];
  const counting = { query: (sql: string, params: unknown[]) => (statements.push(sql), pool.query(sql, params)) };
  const pipeline = redis.pipeline();
  for (let i = 0; i < 1200; i++) pipeline.set(`acct-t:${i + 10}`, JSON.stringify({ id: i + 10, name: `n${i}`, balance: String(i) }));
  pipeline.set('acct-t:99999', JSON.stringify({ id: 99999 })); // no such row: re-read on its own
  await pipeline.exec();
  const report = await checkConsistency(redis, counting, { contracts: [byTable] });
  expect(report.inconsistencies.map((i) => `${i.keyText}: ${i.kind}`)).toEqual(['acct-t:99999: orphaned']);
  expect(statements.filter((s) => / IN \(/.test(s))).toHaveLength(3); // 1201 keys, 500 per batch
  expect(statements.filter((s) => / WHERE id = \$1$/.test(s))).toHaveLength(1);
});

it('the default convention lists the tables of the current schema on PostgreSQL', async () => {
  // What a service caching `SELECT *` rows stores (node-postgres: bigint as text, a date as a Date).
  const { rows } = await pool.query(`SELECT * FROM ${table} ORDER BY id`);
  await redis.set(`${table}:1`, JSON.stringify(rows[0]));
  const { created: _dropped, ...withoutCreated } = rows[1];
  await redis.set(`${table}:2`, JSON.stringify(withoutCreated));
  const report = await checkConsistency(redis, pool);
  expect(report.convention).toBe(true);
  expect(report.contracts).toContain(`${table}:{id} (default convention)`);
  expect(report.inconsistencies.map((i) => `${i.keyText}: ${i.kind} (${i.detail})`)).toEqual([`${table}:2: stale (fields that differ: created)`]);
});
