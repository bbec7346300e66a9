/**
 * Database handles the matcher, contract loads and the race helpers accept, normalised to one
 * `query(sql, params) => rows`: testDb(), a pg-mem database, a plain function, any Queryable. The real
 * servers (node-postgres, mysql2) have their own test files.
 */
import { newDb } from 'pg-mem';
import { defineCache, testDb, testRedis, toQueryable, tryQueryable, UnsupportedDatabaseHandleError } from '../../src';
import { toMysqlPlaceholders } from '../../src/db/mysql';

const redis = testRedis();

const userById = defineCache({ key: 'user:{id}', load: (q, { id }) => q.query('SELECT id, name FROM users WHERE id = $1', [id]) });

function memWithUsers() {
  const mem = newDb();
  mem.public.none(`CREATE TABLE users (id integer PRIMARY KEY, name text); INSERT INTO users VALUES (1, 'Tom')`);
  return mem;
}

describe('recognised handles', () => {
  it('testDb()', async () => {
    const handle = toQueryable(testDb());
    expect([handle.kind, handle.dialect, handle.describe()]).toEqual(['testDb', 'postgres', 'testDb() (pg-mem)']);
    await testDb().query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`);
    expect(await handle.query('SELECT name FROM users WHERE id = $1', [1])).toEqual([{ name: 'Tom' }]);
  });

  it('a pg-mem database (newDb())', async () => {
    const mem = memWithUsers();
    const handle = toQueryable(mem);
    expect([handle.kind, handle.dialect]).toEqual(['pg-mem', 'postgres']);
    expect(await handle.query('SELECT name FROM users WHERE id = $1', ['1'])).toEqual([{ name: 'Tom' }]);
    expect(toQueryable(mem)).toBe(handle); // the same object, the same handle (one pg adapter per database)
    await redis.set('user:1', '{"id":1,"name":"Tom"}');
    await expect(redis).toBeConsistentWith(mem, [userById]);
    mem.public.none(`UPDATE users SET name = 'Jerry'`);
    await expect(redis).not.toBeConsistentWith(mem, [userById]);
  });

  it("pg-mem's node-postgres adapter (createPg) speaks PostgreSQL", async () => {
    const { Pool } = memWithUsers().adapters.createPg();
    const handle = toQueryable(new Pool());
    expect(handle.dialect).toBe('postgres');
    expect(await handle.query('SELECT name FROM users')).toEqual([{ name: 'Tom' }]);
  });

  it('a plain (sql, params) => rows function, sync or async, returning rows or { rows }', async () => {
    const mem = memWithUsers();
    const calls: Array<[string, readonly unknown[]]> = [];
    const sync = (sql: string, params: readonly unknown[]) => (calls.push([sql, params]), mem.public.many(sql.replace('$1', String(Number(params[0])))));
    const asyncRows = async (sql: string, params: readonly unknown[]) => ({ rows: sync(sql, params) });
    await redis.set('user:1', '{"id":1,"name":"Tom"}');
    await expect(redis).toBeConsistentWith(sync, [userById]);
    await expect(redis).toBeConsistentWith(asyncRows, [userById]);
    expect(calls).toEqual([
      ['SELECT id, name FROM users WHERE id = $1', ['1']],
      ['SELECT id, name FROM users WHERE id = $1', ['1']],
    ]);
    expect(toQueryable(sync).kind).toBe('function');
  });

  it('any object with query(sql, params) resolving to rows (a Queryable)', async () => {
    const mem = memWithUsers();
    const queryable = { query: async (sql: string) => mem.public.many(sql.replace('$1', '1')) };
    await redis.set('user:1', '{"id":1,"name":"Tom"}');
    await expect(redis).toBeConsistentWith(queryable, [userById]);
    expect(toQueryable(queryable)).toMatchObject({ kind: 'queryable', dialect: 'unknown' });
  });

  it('the default convention lists tables of a handle whose dialect is unknown by trying PostgreSQL, then MySQL', async () => {
    const mem = memWithUsers();
    const seen: string[] = [];
    const fn = (sql: string, params: readonly unknown[]) => {
      seen.push(sql);
      if (/current_schema/.test(sql)) throw new Error('pretend this is MySQL');
      if (/DATABASE\(\)/.test(sql)) return [{ t: 'users', d: 'int' }];
      return mem.public.many(sql.replace('$1', String(Number(params[0]))));
    };
    await redis.set('users:1', '{"id":1,"name":"Tom"}');
    await expect(redis).toBeConsistentWith(fn);
    expect(seen.slice(0, 2).map((s) => /current_schema/.test(s) ? 'postgres' : 'mysql')).toEqual(['postgres', 'mysql']);
  });
});

describe('anything else', () => {
  it.each([
    ['a string', 'postgres://localhost/test'],
    ['a number', 5432],
    ['null', null],
    ['an object without query', { execute: () => [] }],
    ['an array', []],
  ])('%s is not a handle: tryQueryable gives undefined, toQueryable throws a typed error', (_name, value) => {
    expect(tryQueryable(value)).toBeUndefined();
    expect(() => toQueryable(value)).toThrow(UnsupportedDatabaseHandleError);
    try {
      toQueryable(value, 'race({ db })');
    } catch (err) {
      expect((err as UnsupportedDatabaseHandleError).code).toBe('UNSUPPORTED_DATABASE_HANDLE');
      expect((err as Error).message).toMatch(/^\[UNSUPPORTED_DATABASE_HANDLE\] race\(\{ db \}\) must be testDb\(\), a pg-mem database/);
    }
  });

  it('a query that resolves to something other than rows is an error naming the handle', async () => {
    const handle = toQueryable({ query: async () => 42 });
    await expect(handle.query('SELECT 1')).rejects.toThrow(
      'Received: object with query(), whose query returned number for "SELECT 1" (a query must resolve to an array of row objects or to { rows }).',
    );
  });
});

describe('PostgreSQL placeholders on mysql2', () => {
  it.each([
    ['SELECT * FROM t WHERE a = $1 AND b = $2', [1, 2], 'SELECT * FROM t WHERE a = ? AND b = ?', [1, 2]],
    ['SELECT * FROM t WHERE b = $2 AND a = $1 OR c = $1', ['a', 'b'], 'SELECT * FROM t WHERE b = ? AND a = ? OR c = ?', ['b', 'a', 'a']],
    ["SELECT '$1', `$2`, \"$3\" -- $4\n FROM t WHERE x = $1 /* $2 */", [9], "SELECT '$1', `$2`, \"$3\" -- $4\n FROM t WHERE x = ? /* $2 */", [9]],
    ['SELECT * FROM t WHERE a = ?', [1], 'SELECT * FROM t WHERE a = ?', [1]],
    ["SELECT 'it''s $1', 'a\\'$2' FROM t WHERE a = $1", [7], "SELECT 'it''s $1', 'a\\'$2' FROM t WHERE a = ?", [7]],
  ])('%s', (sql, params, outSql, outParams) => {
    expect(toMysqlPlaceholders(sql, params)).toEqual({ sql: outSql, params: outParams });
  });
});
