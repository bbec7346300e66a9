/**
 * mysql2 pools and connections, callback and promise flavours, against the real MariaDB on this machine
 * (127.0.0.1:3306, root, db `test`). The table is this file's own (`mysql_test_<random>`), dropped afterwards.
 * Contracts keep PostgreSQL's `$n` placeholders: the mysql2 handle rewrites them to `?`.
 */
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2';
import mysqlPromise from 'mysql2/promise';
import { checkConsistency, defineCache, testRedis, toQueryable } from '../../src';

const redis = testRedis();
const table = `mysql_test_${randomBytes(4).toString('hex')}`;
const config = { host: '127.0.0.1', port: 3306, user: 'root', password: '', database: 'test' };

const callbackPool = mysql.createPool(config);
const callbackConnection = mysql.createConnection(config);
let promisePool: mysqlPromise.Pool;
let promiseConnection: mysqlPromise.Connection;

beforeAll(async () => {
  promisePool = mysqlPromise.createPool(config);
  promiseConnection = await mysqlPromise.createConnection(config);
  await promisePool.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name varchar(50) NOT NULL, active tinyint(1) NOT NULL, position int NOT NULL)`);
});
afterAll(async () => {
  await promisePool.query(`DROP TABLE IF EXISTS ${table}`);
  await promiseConnection.end();
  await promisePool.end();
  await new Promise<void>((resolve) => callbackConnection.end(() => resolve()));
  await new Promise<void>((resolve) => callbackPool.end(() => resolve()));
});
beforeEach(async () => {
  await promisePool.query(`DELETE FROM ${table}`);
  await promisePool.query(`INSERT INTO ${table} VALUES (1, 'Tom', 1, 2), (2, 'Ann', 0, 1), (3, 'Sam', 1, 3)`);
});

const user = defineCache({ key: 'm-user:{id}', load: (q, { id }) => q.query(`SELECT id, name, active FROM ${table} WHERE id = $1`, [id]) });
const userHash = defineCache({ key: 'm-hash:{id}', table, as: 'hash', fields: ['id', 'name'] });
const ordered = defineCache({ key: 'm-order', load: (q) => q.query(`SELECT name FROM ${table} ORDER BY position`), as: 'list' });

const handles: Array<[string, () => object]> = [
  ['callback pool', () => callbackPool],
  ['callback connection', () => callbackConnection],
  ['promise pool', () => promisePool],
  ['promise connection', () => promiseConnection],
];

it.each(handles)('a mysql2 %s is a database handle', async (_name, handle) => {
  expect(toQueryable(handle())).toMatchObject({ kind: 'mysql2', dialect: 'mysql' });
  expect(toQueryable(handle()).describe()).toMatch(/^mysql2 \w+ \(127\.0\.0\.1:3306\/test\)$/);
  // mysql2 gives tinyint(1) as 0/1: a service caching its rows stores that.
  await redis.set('m-user:1', JSON.stringify({ id: 1, name: 'Tom', active: 1 }));
  await redis.set('m-user:2', JSON.stringify({ id: 2, name: 'Ann', active: 1 }));
  await redis.set('m-user:9', JSON.stringify({ id: 9, name: 'Nobody', active: 1 }));
  await redis.hset('m-hash:3', { id: '3', name: 'Sam' });
  await redis.rpush('m-order', 'Ann', 'Tom', 'Sam');
  const report = await checkConsistency(redis, handle(), { contracts: [user, userHash, ordered] });
  expect(report.inconsistencies.map((i) => `${i.keyText}: ${i.kind}`)).toEqual(['m-user:2: stale', 'm-user:9: orphaned']);
  await redis.del('m-user:2', 'm-user:9');
  await expect(redis).toBeConsistentWith(handle(), [user, userHash, ordered]);
});

it('batches table contracts with IN (...) on MySQL too', async () => {
  const rows = Array.from({ length: 30 }, (_, i) => `(${100 + i}, 'n${i}', 1, ${i})`).join(', ');
  await promisePool.query(`INSERT INTO ${table} VALUES ${rows}`);
  for (let i = 0; i < 30; i++) await redis.hset(`m-hash:${100 + i}`, { id: String(100 + i), name: i === 4 ? 'stale' : `n${i}` });
  const report = await checkConsistency(redis, promisePool, { contracts: [userHash] });
  expect(report.inconsistencies.map((i) => `${i.keyText}: ${i.kind}`)).toEqual(['m-hash:104: stale']);
});

it('the default convention lists the tables of the current database on MySQL', async () => {
  const [rows] = await promisePool.query(`SELECT * FROM ${table} WHERE id = 1`);
  await redis.set(`${table}:1`, JSON.stringify((rows as object[])[0]));
  await redis.set(`${table}:2`, JSON.stringify({ id: 2, name: 'Ann', active: 1, position: 1 }));
  const report = await checkConsistency(redis, promisePool);
  expect(report.convention).toBe(true);
  expect(report.contracts).toContain(`${table}:{id} (default convention)`);
  expect(report.inconsistencies.map((i) => `${i.keyText}: ${i.kind}`)).toEqual([`${table}:2: stale`]);
});
