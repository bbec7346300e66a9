import Redis from 'ioredis';
import { createClient } from 'redis';
import { redisUrl, testDb, testRedis } from '../../src';

describe('testRedis()', () => {
  const redis = testRedis();

  it('talks to a redis-server on loopback that is not the shared 6379 one', async () => {
    const url = new URL(redisUrl());
    expect(url.hostname).toBe('127.0.0.1');
    expect(url.port).not.toBe('6379');
    expect(await redis.ping()).toBe('PONG');
    const info = await redis.info('persistence');
    expect(info).toMatch(/aof_enabled:0/);
    expect(await redis.config('GET', 'save')).toEqual(['save', '']);
    expect(await redis.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
  });

  it('writes a key in one test...', async () => {
    await redis.set('left:over', '1');
    await redis.select(3);
    await redis.set('other:db', '1');
    await redis.select(0);
    expect(await redis.dbsize()).toBe(1);
  });

  it('...and finds the keyspace empty, in every database, at the start of the next', async () => {
    expect(await redis.dbsize()).toBe(0);
    await redis.select(3);
    expect(await redis.dbsize()).toBe(0);
    await redis.select(0);
  });

  it("connects the library's own client over the server's unix socket, and redisUrl() over TCP", async () => {
    expect(await redis.client('INFO')).toMatch(/laddr=\/\S+\.sock/);
    const own = new Redis(redisUrl());
    try {
      expect(await own.client('INFO')).toMatch(/laddr=127\.0\.0\.1:\d+/);
    } finally {
      await own.quit();
    }
  });

  it('returns the same client within a file', () => {
    expect(testRedis()).toBe(redis);
  });

  it('serves clients users build themselves from redisUrl(): ioredis and node-redis', async () => {
    const own = new Redis(redisUrl());
    const nodeRedis = createClient({ url: redisUrl() });
    await nodeRedis.connect();
    try {
      await own.set('k', 'from ioredis');
      expect(await nodeRedis.get('k')).toBe('from ioredis');
      expect(await redis.get('k')).toBe('from ioredis');
    } finally {
      await own.quit();
      await nodeRedis.close();
    }
  });
});

describe('testDb()', () => {
  const db = testDb();

  it('has the configured schema', async () => {
    await db.query('INSERT INTO users (id, name) VALUES ($1, $2)', [1, 'Tom']);
    expect(await db.query('SELECT id, name, active FROM users')).toEqual([{ id: 1, name: 'Tom', active: true }]);
  });

  it('is back to the schema-only state at the start of the next test', async () => {
    expect(await db.query('SELECT * FROM users')).toEqual([]);
  });

  it('exposes a node-postgres compatible pool for the service under test', async () => {
    const res = await db.pool.query('INSERT INTO users (id, name) VALUES ($1, $2) RETURNING name', [2, 'Jerry']);
    expect(res.rows).toEqual([{ name: 'Jerry' }]);
    expect(await db.query('SELECT count(*) AS n FROM users')).toEqual([{ n: 1 }]);
  });

  it('exposes the raw pg-mem instance', () => {
    expect(db.mem.public.many('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('returns the same handle within a file', () => {
    expect(testDb()).toBe(db);
  });
});
