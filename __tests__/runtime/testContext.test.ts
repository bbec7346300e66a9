import Redis from 'ioredis';
import { createClient } from 'redis';
import { everyInterleaving, race, redisClusterNodes, redisUrl, testDb, testRedis } from '../../src';

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

describe('every connection the library hands out names its own server', () => {
  const redis = testRedis();
  /** The server a client reaches, by its run_id (INFO server). */
  async function runIdOf(client: { info(section: string): Promise<unknown> }): Promise<string> {
    return /run_id:(\w+)/.exec(String(await client.info('server')))![1]!;
  }
  /** Builds ioredis and node-redis clients from a host and port and checks that each reaches this worker's server. */
  async function expectOwnServerAt(host: string | undefined, port: number | undefined): Promise<void> {
    const own = await runIdOf(redis);
    // Checked first, so a wrong address never connects to someone else's server (the shared 6379 one).
    expect({ host, port }).toEqual(tcpOfRedisUrl());
    const io = new Redis(port!, host!);
    const nr = createClient({ socket: { host, port } });
    try {
      await nr.connect();
      expect(await runIdOf(io)).toBe(own);
      expect(await runIdOf(nr)).toBe(own);
    } finally {
      io.disconnect();
      await nr.close();
    }
  }
  function tcpOfRedisUrl(): { host: string; port: number } {
    const { hostname, port } = new URL(redisUrl());
    return { host: hostname, port: Number(port) };
  }

  it("testRedis().options: the socket it uses, and that server's TCP address (not ioredis' localhost:6379)", async () => {
    const { options } = redis;
    expect(options.path).toMatch(/\.sock$/);
    await expectOwnServerAt(options.host, options.port);
    const fromOptions = new Redis(options);
    try {
      expect(await runIdOf(fromOptions)).toBe(await runIdOf(redis));
    } finally {
      fromOptions.disconnect();
    }
  });

  it('a duplicate of testRedis(), redisUrl() and redisClusterNodes()', async () => {
    const dup = redis.duplicate();
    const fromUrl = new Redis(redisUrl());
    try {
      expect(await runIdOf(dup)).toBe(await runIdOf(redis));
      expect(await runIdOf(fromUrl)).toBe(await runIdOf(redis));
    } finally {
      dup.disconnect();
      fromUrl.disconnect();
    }
    await expectOwnServerAt(dup.options.host, dup.options.port);
    const [node, ...more] = redisClusterNodes();
    expect(more).toEqual([]);
    await expectOwnServerAt(node!.host, node!.port);
  });

  it("race() actors' clients", async () => {
    const r = race();
    const actor = r.actor('writer');
    try {
      expect(actor.redis.options.path).toBe(redis.options.path);
      await expectOwnServerAt(actor.redis.options.host, actor.redis.options.port);
    } finally {
      await r.close();
    }
  });

  it("everyInterleaving() actors' clients", async () => {
    const seen: Array<{ host?: string; port?: number; path?: string }> = [];
    await everyInterleaving({
      actors: {
        a: async ({ redis: r }) => void seen.push({ host: r.options.host, port: r.options.port, path: r.options.path }),
      },
    });
    expect(seen.length).toBeGreaterThan(0);
    for (const { host, port, path } of seen) {
      expect(path).toBe(redis.options.path);
      await expectOwnServerAt(host, port);
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
