import { createClient } from 'redis';
import { Client, Pool } from 'pg';
import { createPool } from 'mysql2/promise';
import type Redis from 'ioredis';
import { bindToActors, everyInterleaving, race, redisUrl, type Race, type RaceOptions, type TestDb } from '../../src';

async function labels<R extends object = Redis, D = TestDb>(fn: (r: Race<R, D>) => Promise<unknown>, options: RaceOptions<R, D> = {}): Promise<string[]> {
  const r = race<R, D>(options);
  try {
    await fn(r);
    return r.steps.map((s) => `${s.actor}  ${s.label}`);
  } finally {
    await r.close();
  }
}

describe('every Redis command is one step with a readable label', () => {
  it('ioredis: commands, pipelines, MULTI/EXEC, EVAL and a defined command (EVAL, then EVALSHA)', async () => {
    const steps = await labels(async (r) => {
      const { redis } = r.actor('a');
      await redis.set('user:1', '{"id":1}');
      await redis.get('user:1');
      await redis.get('missing');
      await redis.hset('h', 'f', 'v w');
      await redis.pipeline().get('user:1').incr('n').exec();
      await redis.multi().set('a', '1').del('b').exec();
      await redis.eval("return redis.call('GET', KEYS[1])", 1, 'user:1');
      redis.defineCommand('getTwice', { numberOfKeys: 1, lua: "return redis.call('GET', KEYS[1]) .. redis.call('GET', KEYS[1])" });
      const custom = redis as unknown as { getTwice(key: string): Promise<string> };
      await custom.getTwice('a');
      await custom.getTwice('a');
    });
    expect(steps.slice(0, 7)).toEqual([
      'a  redis SET user:1 {"id":1} -> OK',
      'a  redis GET user:1 -> {"id":1}',
      'a  redis GET missing -> null',
      'a  redis HSET h f "v w" -> 1',
      'a  redis PIPELINE GET user:1; INCR n -> [{"id":1}, 1]',
      'a  redis MULTI SET a 1; DEL b -> [OK, 0]',
      'a  redis EVAL "return redis.call(\'GET\', KE..." 1 user:1 -> {"id":1}',
    ]);
    expect(steps).toHaveLength(9);
    expect(steps[7]).toMatch(/^a {2}redis (EVAL|EVALSHA) \S+ 1 a -> 11$/);
    expect(steps[8]).toMatch(/^a {2}redis EVALSHA [0-9a-f]{8} 1 a -> 11$/);
  });

  it('node-redis: commands, MULTI/EXEC, a pipeline and EVAL', async () => {
    const client = createClient({ url: redisUrl() });
    await client.connect();
    try {
      const steps = await labels(
        async (r) => {
          const { redis } = r.actor('a');
          await redis.set('k', 'v');
          await redis.get('k');
          await redis.multi().set('a', '1').get('a').exec();
          await redis.multi().get('k').get('a').execAsPipeline();
          await redis.eval("return redis.call('GET', KEYS[1])", { keys: ['k'] });
        },
        { redis: client },
      );
      expect(steps).toEqual([
        'a  redis SET k v -> OK',
        'a  redis GET k -> v',
        'a  redis MULTI SET a 1; GET a -> [OK, 1]',
        'a  redis PIPELINE GET k; GET a -> [v, 1]',
        'a  redis EVAL "return redis.call(\'GET\', KE..." 1 k -> v',
      ]);
    } finally {
      await client.close();
    }
  });

  it("one actor's commands never land inside another actor's MULTI: each has its own connection", async () => {
    const replies: string[] = [];
    const summary = await everyInterleaving({
      strategy: { kind: 'exhaustive', reduction: 'none' }, // counts every order: brute force
      actors: {
        tx: async ({ redis }) => {
          await redis.call('MULTI');
          const queued = await redis.call('SET', 'k', 'tx');
          await redis.call('EXEC');
          return queued;
        },
        other: ({ redis }) => redis.set('k', 'other'),
      },
      check: async ({ outcomes, redis }) => {
        replies.push(`${JSON.stringify(outcomes.tx)} ${JSON.stringify(outcomes.other)} ${await redis.get('k')}`);
      },
    });
    expect(summary.schedules).toBe(4);
    expect(new Set(replies)).toEqual(
      new Set(['{"ok":true,"value":"QUEUED"} {"ok":true,"value":"OK"} tx', '{"ok":true,"value":"QUEUED"} {"ok":true,"value":"OK"} other']),
    );
  });
});

describe('every SQL statement is one step, on the actor own connection', () => {
  const pg = new Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 4 });
  const table = `race_instr_${process.pid}`;
  beforeAll(async () => {
    await pg.query(`DROP TABLE IF EXISTS ${table}`);
    await pg.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text NOT NULL)`);
  });
  afterAll(async () => {
    await pg.query(`DROP TABLE IF EXISTS ${table}`);
    await pg.end();
  });

  it('node-postgres Pool (real PostgreSQL): pool-shaped handles, transactions isolated per actor', async () => {
    const seen: string[] = [];
    const summary = await everyInterleaving({
      db: pg,
      resetDb: async (db) => {
        await db.query(`TRUNCATE ${table}`);
        await db.query(`INSERT INTO ${table} VALUES (1, 'Tom')`);
      },
      actors: {
        writer: async ({ db }) => {
          const client = await db.connect();
          await client.query('BEGIN');
          await client.query(`UPDATE ${table} SET name = $1 WHERE id = $2`, ['Jerry', 1]);
          await client.query('COMMIT');
          client.release();
        },
        reader: async ({ db }) => (await db.query(`SELECT name FROM ${table} WHERE id = 1`)).rows[0].name as string,
      },
      check: ({ outcomes, steps }) => void seen.push(`${steps.map((s) => `${s.actor[0]}:${s.command}`).join(' ')} => ${JSON.stringify(outcomes.reader)}`),
    });
    expect(summary.schedules).toBe(4);
    // The reader sees 'Jerry' only once the writer's transaction committed: isolation between the actors' connections.
    expect(seen.sort()).toEqual([
      'r:SELECT w:BEGIN w:UPDATE w:COMMIT => {"ok":true,"value":"Tom"}',
      'w:BEGIN r:SELECT w:UPDATE w:COMMIT => {"ok":true,"value":"Tom"}',
      'w:BEGIN w:UPDATE r:SELECT w:COMMIT => {"ok":true,"value":"Tom"}',
      'w:BEGIN w:UPDATE w:COMMIT r:SELECT => {"ok":true,"value":"Jerry"}',
    ]);
  });

  it('node-postgres labels: rows and row counts', async () => {
    const steps = await labels(
      async (r) => {
        const { db } = r.actor('a');
        await db.query(`INSERT INTO ${table} VALUES ($1, $2), ($3, $4)`, [10, 'a', 11, 'b']);
        await db.query(`SELECT id, name FROM ${table} WHERE id >= $1 ORDER BY id`, [10]);
        await db.query({ text: `DELETE FROM ${table} WHERE id >= $1`, values: [10] });
      },
      { db: pg },
    );
    expect(steps).toEqual([
      `a  db INSERT INTO ${table} VALUES ($1, $2), ($3, $4) [10, 'a', 11, 'b'] -> 2 rows`,
      `a  db SELECT id, name FROM ${table} WHERE id >= $1 ORDER BY id [10] -> 2 rows {id: 10, name: 'a'}, ...`,
      `a  db DELETE FROM ${table} WHERE id >= $1 [10] -> 2 rows`,
    ]);
  });

  it('mysql2 pool (real MariaDB)', async () => {
    const pool = createPool({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test', connectionLimit: 3 });
    try {
      const steps = await labels(
        async (r) => {
          const { db } = r.actor('a');
          await db.query('SELECT 1 AS x');
          await db.execute('SELECT ? AS y', [2]);
        },
        { db: pool },
      );
      expect(steps).toEqual(['a  db SELECT 1 AS x -> {x: 1}', "a  db SELECT ? AS y [2] -> {y: 2}"]);
    } finally {
      await pool.end();
    }
  });

  it('a node-postgres Client: each actor gets a new Client with the same config', async () => {
    const client = new Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test' });
    await client.connect();
    try {
      const own = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
      const pids: number[] = [];
      await labels(
        async (r) => {
          for (const name of ['a', 'b']) pids.push((await r.actor(name).db.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number);
        },
        { db: client },
      );
      expect(new Set([own, ...pids]).size).toBe(3);
    } finally {
      await client.end();
    }
  });

  it('a module-level pool bound with bindToActors: each actor its own connection, its statements its steps', async () => {
    const modulePool = new Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 4 });
    try {
      bindToActors(modulePool);
      const service = { pid: async () => (await modulePool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number };
      const seen: string[] = [];
      await everyInterleaving({
        strategy: { kind: 'exhaustive', reduction: 'none' }, // counts every order: brute force
        db: modulePool,
        resetDb: async () => {},
        actors: { a: () => service.pid(), b: () => service.pid() },
        check: ({ outcomes, steps }) => {
          const a = (outcomes.a as { value: number }).value;
          const b = (outcomes.b as { value: number }).value;
          seen.push(`${steps.map((st) => st.actor).join('')} ${a !== b}`);
        },
      });
      expect(seen).toEqual(['ab true', 'ba true']);
      // Outside actors the pool is the plain pool.
      expect((await modulePool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    } finally {
      await modulePool.end();
    }
  });

  it('a plain query function and a { query } object', async () => {
    const calls: string[] = [];
    const fn = async (sql: string) => {
      calls.push(sql);
      return [{ one: 1 }];
    };
    expect(await labels(async (r) => void (await r.actor('a').db('SELECT 1')), { db: fn })).toEqual(['a  db SELECT 1 -> {one: 1}']);
    expect(await labels(async (r) => void (await r.actor('a').db.query('SELECT 2')), { db: { query: fn } })).toEqual(['a  db SELECT 2 -> {one: 1}']);
    expect(calls).toEqual(['SELECT 1', 'SELECT 2']);
  });
});
