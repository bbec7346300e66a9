/**
 * The wire guard: I/O an actor causes through a client, pool or library the race does not control (and cannot
 * bind on first use: autoBind.test.ts) fails the run at once with RACE_UNINSTRUMENTED_IO naming the actor, the
 * destination and what was sent, on every run. The clients here are what a service keeps at module level, warm
 * (connected before the race), of copies and drivers the race cannot reach: node-redis 6 installed beside the
 * hoisted node-redis 5, postgres.js, MariaDB's own connector, cache-manager over keyv over @keyv/redis on such a
 * client (cache-manager swallows its store's errors), and a pg-mem adapter.
 */
import postgres from 'postgres';
import { createPool as createMariadbPool } from 'mariadb';
import { createClient as createRedis6 } from 'redis6';
import KeyvRedis from '@keyv/redis';
import { createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import { everyInterleaving, race, RaceUninstrumentedIoError, redisUrl, testDb, type TestDb } from '../../src';
import { decodeRequest } from '../../src/race/instrument/wireGuard';
import { createPgMemAdapter } from '../../src/db/pgMemPool';

const RUNS = 20;

interface RedisLike {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<unknown>;
  del(key: string): Promise<number>;
  ping(): Promise<string>;
  quit(): Promise<unknown>;
}

type Actor = (clients: { redis: unknown; db: TestDb }) => Promise<unknown>;

/**
 * Runs the classic cache-aside pair `RUNS` times with `get`/`del` going through `cache` (not the actor's) and
 * collects how each run ended: every one must reject with RACE_UNINSTRUMENTED_IO, none may pass.
 */
async function everyRunFails(reader: Actor, writer: Actor): Promise<{ passed: number; messages: Set<string> }> {
  let passed = 0;
  const messages = new Set<string>();
  for (let i = 0; i < RUNS; i++) {
    try {
      await everyInterleaving({
        actors: { reader: reader as never, writer: writer as never },
        setup: ({ db }) => (db as TestDb).query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
      });
      passed++;
    } catch (error) {
      if (!(error instanceof RaceUninstrumentedIoError)) throw error;
      messages.add(error.message.split('\n')[0]!);
    }
  }
  return { passed, messages };
}

/** The classic race, with the cache reached through `get`/`set`/`del` of a client the race does not control. */
function cacheAside(cache: { get(k: string): Promise<unknown>; set(k: string, v: string): Promise<unknown>; del(k: string): Promise<unknown> }) {
  const reader: Actor = async ({ db }) => {
    const hit = await cache.get('user:1');
    if (hit) return hit;
    const [row] = await db.query<{ name: string }>('SELECT name FROM users WHERE id = 1');
    await cache.set('user:1', row!.name);
    return row!.name;
  };
  const writer: Actor = async ({ db }) => {
    await db.query(`UPDATE users SET name = 'Jerry' WHERE id = 1`);
    await cache.del('user:1');
  };
  return { reader, writer };
}

describe('Redis clients of libraries the race does not instrument, connected before the race', () => {
  it('node-redis 6 beside the hoisted node-redis 5: every run fails with RACE_UNINSTRUMENTED_IO naming the actor, the server and the command', async () => {
    const client = createRedis6({ url: redisUrl() });
    await client.connect();
    try {
      const { reader, writer } = cacheAside({ get: (k) => client.get(k), set: (k, v) => client.set(k, v), del: (k) => client.del(k) });
      const { passed, messages } = await everyRunFails(reader, writer);
      expect(passed).toBe(0);
      const port = new URL(redisUrl()).port;
      expect([...messages]).toEqual([
        `[RACE_UNINSTRUMENTED_IO] Actor "reader" sent \`GET user:1\` to the Redis server at 127.0.0.1:${port} over a connection the race does not control (a client, pool or library that is neither the actor's own nor bound with bindToActors): the race cannot see or order what goes over it, so schedules would not be reproducible.`,
      ]);
    } finally {
      await client.quit();
    }
  });

  it.each([
    ['ioredis 6 beside the package’s ioredis 5', 'ioredis6'],
    ['iovalkey (a fork of ioredis)', 'iovalkey'],
  ])('%s: every run fails with RACE_UNINSTRUMENTED_IO naming the actor, the server and the command', async (_name, library) => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(library) as { default?: new (url: string) => RedisLike } & (new (url: string) => RedisLike);
    const Client = mod.default ?? mod;
    const client = new Client(redisUrl());
    await client.ping();
    try {
      const { reader, writer } = cacheAside({ get: (k) => client.get(k), set: (k, v) => client.set(k, v), del: (k) => client.del(k) });
      const { passed, messages } = await everyRunFails(reader, writer);
      expect(passed).toBe(0);
      expect([...messages]).toEqual([expect.stringMatching(/^\[RACE_UNINSTRUMENTED_IO\] Actor "reader" sent `GET user:1` to the Redis server at 127\.0\.0\.1:\d+ over a connection the race does not control/)]);
    } finally {
      await client.quit();
    }
  });

  it('cache-manager + keyv + @keyv/redis, which swallows its store errors: every run still fails', async () => {
    const store = createRedis6({ url: redisUrl() });
    const cache = createCache({ stores: [new Keyv({ store: new KeyvRedis(store as never) })] });
    // Warm: the store's connection is open before the race.
    await cache.get('warm-up');
    try {
      const { reader, writer } = cacheAside({ get: (k) => cache.get(k), set: (k, v) => cache.set(k, v), del: (k) => cache.del(k) });
      const { passed, messages } = await everyRunFails(reader, writer);
      expect(passed).toBe(0);
      expect([...messages]).toHaveLength(1);
      expect([...messages][0]).toMatch(/^\[RACE_UNINSTRUMENTED_IO\] Actor "reader" sent `GET keyv::keyv:user:1` to the Redis server at 127\.0\.0\.1:\d+ over a connection the race does not control/);
    } finally {
      await cache.disconnect();
    }
  });
});

describe('database pools the race does not control', () => {
  it('postgres.js on PostgreSQL, warm: every run fails naming the statement and the server', async () => {
    const sql = postgres('postgres://postgres@127.0.0.1:5432/test', { max: 2, onnotice: () => {} });
    await sql`SELECT 1`;
    try {
      const reader: Actor = async ({ redis }) => {
        const [row] = await sql`SELECT ${1}::int AS n`;
        await (redis as { set(k: string, v: string): Promise<unknown> }).set('n', String(row!.n));
      };
      const writer: Actor = async ({ redis }) => (redis as { del(k: string): Promise<unknown> }).del('n');
      const { passed, messages } = await everyRunFails(reader, writer);
      expect(passed).toBe(0);
      expect([...messages]).toEqual([
        // postgres.js prepares the statement on the first run and only binds it after: both name the SQL.
        expect.stringMatching(/^\[RACE_UNINSTRUMENTED_IO\] Actor "reader" sent the statement `SELECT \$1::int AS n` to the PostgreSQL server at 127\.0\.0\.1:5432 over a connection the race does not control/),
        expect.stringMatching(/^\[RACE_UNINSTRUMENTED_IO\] Actor "reader" sent the statement `SELECT \$1::int AS n` \(prepared earlier\) to the PostgreSQL server at 127\.0\.0\.1:5432 over/),
      ]);
    } finally {
      await sql.end();
    }
  });

  it("MariaDB's own connector (the mariadb package), warm: every run fails naming the query and the server", async () => {
    const pool = createMariadbPool({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test', connectionLimit: 2 });
    await pool.query('SELECT 1');
    try {
      const reader: Actor = async ({ redis }) => {
        const rows = (await pool.query('SELECT 41 + 1 AS n')) as Array<{ n: number }>;
        await (redis as { set(k: string, v: string): Promise<unknown> }).set('n', String(rows[0]!.n));
      };
      const writer: Actor = async ({ redis }) => (redis as { del(k: string): Promise<unknown> }).del('n');
      const { passed, messages } = await everyRunFails(reader, writer);
      expect(passed).toBe(0);
      expect([...messages]).toEqual([
        expect.stringMatching(/^\[RACE_UNINSTRUMENTED_IO\] Actor "reader" sent the query `SELECT 41 \+ 1 AS n` to the MySQL server at 127\.0\.0\.1:3306 over a connection the race does not control/),
      ]);
    } finally {
      await pool.end();
    }
  });

  it("a pg-mem adapter built on the preset's database (not bound): every run fails naming the statement", async () => {
    const { Pool: MemPool } = testDb().mem.adapters.createPg() as { Pool: new () => { query(sql: string): Promise<{ rows: Array<{ name: string }> }> } };
    const pool = new MemPool();
    const reader: Actor = async ({ redis }) => {
      const { rows } = await pool.query('SELECT name FROM users WHERE id = 1');
      await (redis as { set(k: string, v: string): Promise<unknown> }).set('user:1', rows[0]?.name ?? '');
    };
    const writer: Actor = async ({ redis }) => (redis as { del(k: string): Promise<unknown> }).del('user:1');
    const { passed, messages } = await everyRunFails(reader, writer);
    expect(passed).toBe(0);
    expect([...messages]).toEqual([
      expect.stringMatching(/^\[RACE_UNINSTRUMENTED_IO\] Actor "reader" ran `SELECT name FROM users WHERE id = 1;?` on the embedded pg-mem database through a handle the race does not control/),
    ]);
  });

  it("a pool of the library's own pg-mem adapter on the preset's database (not bound), with parameters: every run fails naming the statement", async () => {
    // It runs parsed statements (no SQL text) while only the race's guard listens: the guard still sees each one.
    const { Pool: MemPool } = createPgMemAdapter<{ query(sql: string, params: unknown[]): Promise<{ rows: Array<{ name: string }> }> }>(testDb().mem);
    const pool = new MemPool();
    const reader: Actor = async ({ redis }) => {
      const { rows } = await pool.query('SELECT name FROM users WHERE id = $1', [1]);
      await (redis as { set(k: string, v: string): Promise<unknown> }).set('user:1', rows[0]?.name ?? '');
    };
    const writer: Actor = async ({ redis }) => (redis as { del(k: string): Promise<unknown> }).del('user:1');
    const { passed, messages } = await everyRunFails(reader, writer);
    expect(passed).toBe(0);
    expect([...messages]).toEqual([
      expect.stringMatching(/^\[RACE_UNINSTRUMENTED_IO\] Actor "reader" ran `SELECT name FROM users WHERE id = '1';` on the embedded pg-mem database through a handle the race does not control/),
    ]);
  });
});

describe('what the guard leaves alone', () => {
  it("the actors' own clients, console output inside actors, and the check's uninstrumented client pass", async () => {
    const client = createRedis6({ url: redisUrl() });
    await client.connect();
    const log = jest.spyOn(process.stdout, 'write');
    try {
      const summary = await everyInterleaving({
        actors: {
          a: async ({ redis }) => {
            process.stdout.write('');
            await redis.set('k', 'a');
          },
          b: ({ redis }) => redis.set('k', 'b'),
        },
        // Outside the actors: the test's own client is not the race's business.
        check: async () => void (await client.get('k')),
      });
      expect(summary).toMatchObject({ complete: true });
    } finally {
      log.mockRestore();
      await client.quit();
    }
  });
});

describe('race(): actor.run(fn) through an uninstrumented client', () => {
  it('run() rejects with RACE_UNINSTRUMENTED_IO even when the code swallows its error, and so does close()', async () => {
    const client = createRedis6({ url: redisUrl() });
    await client.connect();
    try {
      const r = race();
      const reader = r.actor('reader');
      const run = reader.run(async () => {
        await client.get('user:1').catch(() => undefined);
        return 'done';
      });
      await expect(run).rejects.toThrow(/^\[RACE_UNINSTRUMENTED_IO\] Actor "reader" sent `GET user:1` to the Redis server/);
      await expect(r.close()).rejects.toThrow(RaceUninstrumentedIoError);
    } finally {
      await client.quit();
    }
  });
});

describe('decodeRequest: what a write carries, as the message names it', () => {
  it('a RESP command, a PostgreSQL Query and Parse, a MySQL COM_QUERY; anything else is not decoded', () => {
    expect(decodeRequest(Buffer.from('*3\r\n$3\r\nset\r\n$6\r\nuser:1\r\n$3\r\nTom\r\n'))).toEqual({ protocol: 'Redis', what: '`SET user:1 Tom`' });
    const text = 'SELECT 1';
    const q = Buffer.alloc(1 + 4 + text.length + 1);
    q.write('Q', 0);
    q.writeInt32BE(4 + text.length + 1, 1);
    q.write(text, 5);
    expect(decodeRequest(q)).toEqual({ protocol: 'PostgreSQL', what: 'the query `SELECT 1`' });
    const parse = Buffer.concat([Buffer.from('P'), Buffer.from([0, 0, 0, 20]), Buffer.from('\0UPDATE t SET a=$1\0'), Buffer.from([0, 0])]);
    expect(decodeRequest(parse)).toEqual({ protocol: 'PostgreSQL', what: 'the statement `UPDATE t SET a=$1`' });
    const sql = 'DELETE FROM t';
    const my = Buffer.alloc(4 + 1 + sql.length);
    my.writeUIntLE(1 + sql.length, 0, 3);
    my[3] = 0;
    my[4] = 0x03;
    my.write(sql, 5);
    expect(decodeRequest(my)).toEqual({ protocol: 'MySQL', what: 'the query `DELETE FROM t`' });
    expect(decodeRequest(Buffer.from('GET / HTTP/1.1\r\n\r\n'))).toBeUndefined();
  });
});
