/**
 * bindToActors on the module-level handles services keep: the preset's pg-mem testDb().pool (a forwarding
 * Proxy), and node-postgres' and mysql2's callback forms (TypeORM drives both drivers through callbacks).
 */
import { Pool } from 'pg';
import { createPool as createMysqlCallbackPool, type Pool as MysqlCallbackPool } from 'mysql2';
import { bindToActors, everyInterleaving, InvalidRaceScenarioError, race, testDb, type TestDb } from '../../src';

type Callback<T> = (err: Error | null, value?: T) => void;

/** Promise of a node-style callback call. */
function viaCallback<T>(call: (cb: Callback<T>) => unknown): Promise<T> {
  return new Promise<T>((resolve, reject) => void call((err, value) => (err ? reject(err) : resolve(value as T))));
}

interface PgCallbackClient {
  query(sql: string, params: unknown[], cb: Callback<{ rows: Record<string, unknown>[] }>): void;
  release(err?: unknown): void;
}
interface PgCallbackPool {
  connect(cb: (err: Error | null, client: PgCallbackClient, release: (err?: unknown) => void) => void): void;
  query(sql: string, cb: Callback<{ rows: Record<string, unknown>[] }>): void;
}

/** A service written against node-postgres' callback API (as TypeORM's PostgresQueryRunner is). */
function callbackPgService(pool: PgCallbackPool) {
  return {
    /** connect(cb), then client.query(sql, params, cb) twice, then the release function connect handed over. */
    rename: (id: number, name: string) =>
      new Promise<string>((resolve, reject) => {
        pool.connect((err, client, release) => {
          if (err) return reject(err);
          client.query('UPDATE users SET name = $1 WHERE id = $2', [name, id], (err2) => {
            if (err2) return release(err2), reject(err2);
            client.query('SELECT name FROM users WHERE id = $1', [id], (err3, result) => {
              release();
              return err3 ? reject(err3) : resolve(result!.rows[0]!.name as string);
            });
          });
        });
      }),
    /** pool.query(sql, cb) */
    count: () => viaCallback<{ rows: Record<string, unknown>[] }>((cb) => pool.query('SELECT count(*)::int AS n FROM users', cb)).then((r) => Number(r.rows[0]!.n)),
  };
}

describe("testDb().pool kept at module level (pg-mem, the preset's forwarding pool)", () => {
  // What a service module holds: `export const pool = testDb().pool`.
  const service = (() => {
    const pool = testDb().pool;
    return {
      pool,
      rename: async (id: number, name: string) => void (await pool.query('UPDATE users SET name = $1 WHERE id = $2', [name, id])),
      nameOf: async (id: number) => (await pool.query<{ name: string }>('SELECT name FROM users WHERE id = $1', [id])).rows[0]?.name,
    };
  })();
  bindToActors(service.pool);

  beforeEach(async () => {
    await testDb().query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`);
  });

  it("its queries are the actors' steps, each actor on its own connection", async () => {
    const seen: string[] = [];
    const clients = new Map<string, object>();
    const summary = await everyInterleaving({
      strategy: { kind: 'exhaustive', reduction: 'none' }, // counts every order: brute force
      actors: {
        writer: async () => {
          clients.set('writer', await service.pool.connect());
          await service.rename(1, 'Jerry');
        },
        reader: async () => {
          clients.set('reader', await service.pool.connect());
          return service.nameOf(1);
        },
      },
      check: ({ outcomes, steps }) => void seen.push(`${steps.map((s) => s.label.replace(/ ->.*/, '')).join('; ')} => ${(outcomes.reader as { value: string }).value}`),
    });
    // Both statements are steps (an uninstrumented one would be missing from every order): two orders.
    expect(summary.schedules).toBe(2);
    expect(seen.sort()).toEqual([
      "db SELECT name FROM users WHERE id = $1 [1]; db UPDATE users SET name = $1 WHERE id = $2 ['Jerry', 1] => Tom",
      "db UPDATE users SET name = $1 WHERE id = $2 ['Jerry', 1]; db SELECT name FROM users WHERE id = $1 [1] => Jerry",
    ]);
    // connect() inside an actor hands out that actor's own connection, not the module's pool.
    expect(clients.get('writer')).not.toBe(clients.get('reader'));
    expect(clients.get('writer')).not.toBe(service.pool);
    // Outside actors the pool is the plain pool.
    expect(await service.nameOf(1)).toBe('Tom');
  });

  it('steps are labelled with the actor that ran them (race() with actor.run)', async () => {
    const r = race();
    try {
      await r.actor('a').run(() => service.rename(1, 'A'));
      await r.actor('b').run(() => service.nameOf(1));
      expect(r.steps.map((s) => `${s.actor}  ${s.label}`)).toEqual([
        "a  db UPDATE users SET name = $1 WHERE id = $2 ['A', 1] -> 1 row",
        "b  db SELECT name FROM users WHERE id = $1 [1] -> {name: 'A'}",
      ]);
    } finally {
      await r.close();
    }
  });

  it('stays bound after reset() rebuilt the database (a test changed the schema)', async () => {
    const before = testDb().mem;
    await testDb().query('CREATE TABLE scratch (id int)');
    await testDb().reset(); // pg-mem cannot restore a changed schema: a new instance behind the same pool
    expect(testDb().mem).not.toBe(before);
    // The old instance still holds Tom: the name tells which instance answered.
    await testDb().query(`INSERT INTO users (id, name) VALUES (1, 'Rebuilt')`);
    const r = race();
    try {
      expect(await r.actor('a').run(() => service.nameOf(1))).toBe('Rebuilt');
      expect(r.steps.map((s) => s.label)).toEqual(["db SELECT name FROM users WHERE id = $1 [1] -> {name: 'Rebuilt'}"]);
    } finally {
      await r.close();
    }
  });

  it('callback forms: pool.connect(cb), client.query(sql, params, cb), pool.query(sql, cb) are steps', async () => {
    const cbService = callbackPgService(service.pool as unknown as PgCallbackPool);
    const r = race();
    try {
      expect(await r.actor('a').run(() => cbService.rename(1, 'A'))).toBe('A');
      expect(await r.actor('b').run(() => cbService.count())).toBe(1);
      expect(r.steps.map((s) => `${s.actor}  ${s.label.replace(/ ->.*/, '')}`)).toEqual([
        "a  db UPDATE users SET name = $1 WHERE id = $2 ['A', 1]",
        'a  db SELECT name FROM users WHERE id = $1 [1]',
        'b  db SELECT count(*)::int AS n FROM users',
      ]);
    } finally {
      await r.close();
    }
    // Outside actors: the plain pool's callbacks.
    expect(await cbService.count()).toBe(1);
  });

  it("callback forms on an actor's own handle (everyInterleaving's db.pool)", async () => {
    const names: string[] = [];
    await everyInterleaving<object, TestDb>({
      actors: {
        a: async ({ db }) => void names.push(await callbackPgService(db.pool as unknown as PgCallbackPool).rename(1, 'A')),
      },
      check: ({ steps }) => expect(steps.map((s) => s.command)).toEqual(['UPDATE', 'SELECT']),
    });
    expect(names).toEqual(['A']);
  });

  it('a handle whose methods cannot be patched (a Proxy that forwards them elsewhere) is refused, never bound silently', () => {
    const real = { query: async () => ({ rows: [] }), connect: async () => ({}) };
    const forwarding = new Proxy({} as typeof real, {
      get: (_t, prop) => (real as Record<PropertyKey, unknown>)[prop],
      set: () => true, // accepts the patch and drops it
    });
    let error: unknown;
    try {
      bindToActors(forwarding);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidRaceScenarioError);
    expect((error as InvalidRaceScenarioError).code).toBe('INVALID_RACE_SCENARIO');
    expect((error as Error).message).toContain('query');
  });
});

describe('callback forms on a real node-postgres Pool (PostgreSQL)', () => {
  const table = `race_bind_cb_${process.pid}`;
  const admin = new Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 2 });
  beforeAll(async () => {
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.query(`CREATE TABLE ${table} (id int PRIMARY KEY, name text NOT NULL)`);
  });
  afterAll(async () => {
    await admin.query(`DROP TABLE IF EXISTS ${table}`);
    await admin.end();
  });
  const reset = async (db: { query(sql: string): Promise<unknown> }) => {
    await db.query(`TRUNCATE ${table}`);
    await db.query(`INSERT INTO ${table} VALUES (1, 'Tom')`);
  };
  /** The callback service, with its pid so the connection is visible. */
  const pidService = (pool: PgCallbackPool) => ({
    pid: () =>
      new Promise<number>((resolve, reject) => {
        pool.connect((err, client, release) => {
          if (err) return reject(err);
          client.query(`UPDATE ${table} SET name = $1 WHERE id = $2`, ['x', 1], (err2) => {
            if (err2) return release(err2), reject(err2);
            client.query('SELECT pg_backend_pid() AS pid', [], (err3, result) => {
              release();
              return err3 ? reject(err3) : resolve(result!.rows[0]!.pid as number);
            });
          });
        });
      }),
    count: () => viaCallback<{ rows: Record<string, unknown>[] }>((cb) => pool.query(`SELECT count(*)::int AS n FROM ${table}`, cb)).then((r) => Number(r.rows[0]!.n)),
  });

  it('a bound module-level Pool: connect(cb) and query(sql, cb) are steps, each actor on its own connection', async () => {
    const modulePool = new Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 4 });
    try {
      bindToActors(modulePool);
      const service = pidService(modulePool as unknown as PgCallbackPool);
      const seen: string[] = [];
      const summary = await everyInterleaving({
        strategy: { kind: 'exhaustive', reduction: 'none' },
        db: modulePool,
        resetDb: reset,
        actors: { a: () => service.pid(), b: () => service.count() },
        check: ({ outcomes, steps }) => {
          expect((outcomes.b as { value: number }).value).toBe(1);
          seen.push(steps.map((s) => `${s.actor}:${s.command}`).join(' '));
        },
      });
      expect(summary.schedules).toBe(3);
      expect(seen.sort()).toEqual(['a:UPDATE a:SELECT b:SELECT', 'a:UPDATE b:SELECT a:SELECT', 'b:SELECT a:UPDATE a:SELECT']);
      // Outside actors: the plain pool's callbacks.
      expect(await service.count()).toBe(1);
    } finally {
      await modulePool.end();
    }
  });

  it("an actor's own handle: connect(cb) gives that actor's connection", async () => {
    const pids = new Map<string, number>();
    await reset(admin);
    const r = race<object, Pool>({ db: admin });
    try {
      for (const name of ['a', 'b']) pids.set(name, await pidService(r.actor(name).db as unknown as PgCallbackPool).pid());
      expect(r.steps.map((s) => `${s.actor}:${s.command}`)).toEqual(['a:UPDATE', 'a:SELECT', 'b:UPDATE', 'b:SELECT']);
    } finally {
      await r.close();
    }
    expect(pids.get('a')).not.toBe(pids.get('b'));
  });
});

describe('callback forms on a bound mysql2 pool (MariaDB)', () => {
  const table = `race_bind_cb_${process.pid}`;
  let pool: MysqlCallbackPool;
  beforeAll(async () => {
    pool = createMysqlCallbackPool({ host: '127.0.0.1', port: 3306, user: 'root', database: 'test', connectionLimit: 4 });
    await pool.promise().query(`DROP TABLE IF EXISTS ${table}`);
    await pool.promise().query(`CREATE TABLE ${table} (id int PRIMARY KEY, name varchar(20) NOT NULL)`);
  });
  afterAll(async () => {
    await pool.promise().query(`DROP TABLE IF EXISTS ${table}`);
    await pool.promise().end();
  });

  it('pool.query(sql, cb) and pool.getConnection(cb) + conn.query(sql, values, cb) are steps, each actor on its own connection', async () => {
    bindToActors(pool);
    type Rows = Record<string, unknown>[];
    const service = {
      connectionId: () =>
        new Promise<number>((resolve, reject) => {
          pool.getConnection((err, conn) => {
            if (err) return reject(err);
            conn.query(`UPDATE ${table} SET name = ? WHERE id = ?`, ['x', 1], (err2) => {
              if (err2) return conn.release(), reject(err2);
              conn.query('SELECT CONNECTION_ID() AS id', (err3, rows) => {
                conn.release();
                return err3 ? reject(err3) : resolve(Number((rows as Rows)[0]!.id));
              });
            });
          });
        }),
      count: () => viaCallback<Rows>((cb) => pool.query(`SELECT count(*) AS n FROM ${table}`, (err, rows) => cb(err, rows as Rows))).then((rows) => Number(rows[0]!.n)),
    };
    const seen: string[] = [];
    const ids: number[] = [];
    const summary = await everyInterleaving({
      strategy: { kind: 'exhaustive', reduction: 'none' },
      db: pool,
      resetDb: async () => {
        await pool.promise().query(`DELETE FROM ${table}`);
        await pool.promise().query(`INSERT INTO ${table} VALUES (1, 'Tom')`);
      },
      actors: { a: () => service.connectionId(), b: () => service.count(), c: () => service.connectionId() },
      check: ({ outcomes, steps }) => {
        expect((outcomes.b as { value: number }).value).toBe(1);
        ids.push((outcomes.a as { value: number }).value, (outcomes.c as { value: number }).value);
        seen.push(steps.map((s) => `${s.actor}:${s.command}`).join(' '));
      },
    });
    // 5 steps (a: 2, b: 1, c: 2): 5! / (2! 1! 2!) = 30 orders, each with every statement a step.
    expect(summary.schedules).toBe(30);
    expect(seen.every((s) => s.split(' ').length === 5)).toBe(true);
    // a and c each on a connection of their own.
    expect(ids[0]).not.toBe(ids[1]);
    expect(await service.count()).toBe(1);
  });
});
