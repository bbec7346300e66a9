/**
 * The pg-mem adapter behind testDb().pool, testDb().query and pg-mem handles: statements parsed once per SQL
 * text, parameters bound into the cached syntax tree. It must answer exactly as pg-mem's own adapter does:
 * the same corpus runs on two identical databases, one through each, and every result, error and the final
 * tables must match.
 */
import { createRequire } from 'node:module';
import { newDb, type IMemoryDb } from 'pg-mem';
import { createPgMemAdapter, statementText, TAKES_STATEMENTS } from '../../src/db/pgMemPool';

interface Pg {
  query(sql: unknown, values?: unknown, callback?: unknown): Promise<{ rows: unknown[]; rowCount: number | null; command?: string }>;
}

const SCHEMA = `
  CREATE TABLE users (id serial PRIMARY KEY, name text NOT NULL, email text UNIQUE, active boolean NOT NULL DEFAULT true, score numeric, big bigint);
  CREATE TABLE tags (user_id integer, tag text, meta jsonb, at timestamptz);
  INSERT INTO users (name, email, score, big) VALUES ('Tom', 't@x', 1.5, 9007199254740993), ('Jerry', 'j@x', NULL, 1);
`;

/** Every statement form the adapter sees in practice, with parameters of every kind. */
const CORPUS: Array<[string, unknown[]?]> = [
  ['SELECT id, name FROM users WHERE id = $1', [1]],
  ['SELECT id, name FROM users WHERE id = $1', ['2']],
  ['SELECT id, name FROM users WHERE id = $1', [99]],
  ['SELECT * FROM users WHERE name = $1 OR name = $2 ORDER BY id', ['Tom', 'Jerry']],
  ['SELECT $1::int + $1::int AS twice, $2::text AS t', [21, "it's a 'quote'"]],
  ['SELECT * FROM users WHERE active = $1 ORDER BY id', [true]],
  ['SELECT * FROM users WHERE big = $1', [9007199254740993n]],
  ['SELECT * FROM users WHERE score = $1', [1.5]],
  ['SELECT * FROM users WHERE email = $1', [null]],
  ['SELECT COALESCE($1, \'none\') AS v', [undefined]],
  ['INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id, name', ['Spike', 's@x']],
  ['INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id', ['Dup', 's@x']], // a constraint violation
  ['INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id', ['Tyke', 'ty@x']], // the serial after a failure
  ['UPDATE users SET name = $1 WHERE id = $2', ['Thomas', 1]],
  ['DELETE FROM users WHERE id = $1', [2]],
  ['INSERT INTO tags (user_id, tag, meta, at) VALUES ($1, $2, $3, $4)', [1, 'a', { deep: [1, 'x'] }, new Date(Date.UTC(2026, 0, 2))]],
  ['SELECT * FROM tags WHERE meta = $1', [{ deep: [1, 'x'] }]],
  ['SELECT * FROM users WHERE id = ANY($1) ORDER BY id', [[1, 3]]], // an error in pg-mem (text[] vs int)
  ['SELECT * FROM tags WHERE tag = $1', [Buffer.from('a')]],
  ['SELECT * FROM users WHERE id = $2', [1]], // too few values
  ['SELECT nope FROM users WHERE id = $1', [1]], // no such column
  ['SELEC id FROM users WHERE id = $1', [1]], // syntax error
  ['SELECT 1 AS a; SELECT $1::int AS b', [2]], // two statements: a parse error in pg-mem
  ['SELECT /* $3 */ $1::int AS v', [5]], // pg-mem's adapter replaces $n in comments too: an error there
  ["SELECT 'a$1b' AS v, $1::int AS w", [null]], // ...and in string literals
  ['ALTER TABLE users ADD COLUMN c2 int DEFAULT $1, ADD COLUMN c3 nosuchtype', [5]], // DDL that fails half-way
  ['SELECT count(*)::int AS n FROM users', []],
  ['SELECT name FROM users ORDER BY id', undefined],
];

function database(): IMemoryDb {
  const mem = newDb();
  mem.public.none(SCHEMA);
  return mem;
}

async function outcome(pg: Pg, sql: unknown, values?: unknown): Promise<unknown> {
  try {
    const r = await pg.query(sql, values);
    return { rows: r.rows, rowCount: r.rowCount, command: r.command };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

async function runCorpus(pg: Pg): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const [sql, values] of CORPUS) out.push(await outcome(pg, sql, values));
  out.push(await outcome(pg, { text: 'SELECT name FROM users WHERE id = $1', values: [1] }));
  out.push(await outcome(pg, { text: 'SELECT name FROM users WHERE id = $1' }, [3]));
  return out;
}

const tables = (mem: IMemoryDb) => [mem.public.many('SELECT * FROM users ORDER BY id'), mem.public.many('SELECT * FROM tags')];

function stockPool(mem: IMemoryDb): Pg {
  const { Pool } = mem.adapters.createPg();
  return new Pool() as Pg;
}

it("answers the whole corpus exactly as pg-mem's own adapter: rows, counts, errors and the tables after", async () => {
  const stockDb = database();
  const ourDb = database();
  const { Pool } = createPgMemAdapter<Pg>(ourDb);
  const ours = await runCorpus(new Pool());
  const stock = await runCorpus(stockPool(stockDb));
  expect(ours).toEqual(stock);
  expect(tables(ourDb)).toEqual(tables(stockDb));
  // The corpus did reach the interesting cases.
  expect(stock.filter((o) => 'error' in (o as object))).toHaveLength(7);
  expect(stock[0]).toEqual({ rows: [{ id: 1, name: 'Tom' }], rowCount: 1, command: 'SELECT' });
});

it("takes a string parameter holding a backslash before a space, which pg-mem's own adapter turns into a syntax error", async () => {
  const { Pool } = createPgMemAdapter<Pg>(database());
  const text = 'C:\\Program Files\\ new';
  expect(await outcome(new Pool(), 'SELECT $1::text AS t', [text])).toEqual({ rows: [{ t: text }], rowCount: 1, command: 'SELECT' });
  expect(await outcome(stockPool(database()), 'SELECT $1::text AS t', [text])).toEqual({ error: expect.stringMatching(/lexer error/) });
});

it('parses a statement once per SQL text, whatever its parameter values', async () => {
  const parsed: unknown[] = [];
  // A fresh copy of the module and of pg-mem's parser (Jest's createRequire gives the registry's copy), so
  // the parser the module looks up on first use is the spied one.
  await jest.isolateModulesAsync(async () => {
    const parser = createRequire(require.resolve('pg-mem'))('pgsql-ast-parser') as { parse: (sql: string) => unknown };
    const spy = jest.spyOn(parser, 'parse');
    const { createPgMemAdapter: adapter } = require('../../src/db/pgMemPool') as typeof import('../../src/db/pgMemPool');
    const mem = (require('pg-mem') as typeof import('pg-mem')).newDb();
    mem.public.none(SCHEMA);
    spy.mockClear();
    const { Pool } = adapter<Pg>(mem);
    const pool = new Pool();
    for (let id = 1; id <= 50; id++) await pool.query('SELECT id FROM users WHERE id = $1', [id]);
    await pool.query('SELECT name FROM users WHERE id = $1', [1]);
    parsed.push(...spy.mock.calls.map(([sql]) => sql));
    spy.mockRestore();
  });
  // pg-mem's own adapter would have parsed 51 texts ('... = 1', '... = 2', ...).
  expect(parsed).toEqual(['SELECT id FROM users WHERE id = $1', 'SELECT name FROM users WHERE id = $1']);
});

it("hands interceptors and query listeners the SQL text, as pg-mem's adapter does", async () => {
  const mem = database();
  const seen: string[] = [];
  mem.on('query', (q) => seen.push(String(q)));
  mem.public.interceptQueries((sql) => (sql.includes('42') ? [{ intercepted: true }] : null));
  const { Pool } = createPgMemAdapter<Pg>(mem);
  const pool = new Pool();
  expect((await pool.query('SELECT id FROM users WHERE id = $1', [42])).rows).toEqual([{ intercepted: true }]);
  await pool.query('SELECT id FROM users WHERE id = $1', [1]);
  expect(seen).toEqual(["SELECT id FROM users WHERE id = '1';"]);
});

it('keeps parsed statements for a query listener marked TAKES_STATEMENTS, which can ask for the text pg-mem would have had', async () => {
  const mem = database();
  const seen: unknown[] = [];
  mem.on('query', Object.assign((q: unknown) => seen.push(q), { [TAKES_STATEMENTS]: true }));
  const { Pool } = createPgMemAdapter<Pg>(mem);
  const pool = new Pool();
  expect((await pool.query('SELECT name FROM users WHERE id = $1', [1])).rows).toEqual([{ name: 'Tom' }]);
  expect(seen).toHaveLength(1);
  expect(typeof seen[0]).toBe('object');
  expect(statementText(seen[0])).toBe("SELECT name FROM users WHERE id = '1';");
  // Without parameters the statement takes pg-mem's own path: the listener gets the text.
  await pool.query('SELECT name FROM users WHERE id = 2');
  expect(seen[1]).toBe('SELECT name FROM users WHERE id = 2;');
  expect(statementText('SELECT 1')).toBeUndefined();
  expect(statementText({})).toBeUndefined();
});

it('resolves later, never in the same tick (as pg-mem does), and works through connect()', async () => {
  const { Pool } = createPgMemAdapter<Pg & { connect(): Promise<Pg & { release(): void }> }>(database());
  const client = await new Pool().connect();
  let settled = false;
  const pending = client.query('SELECT name FROM users WHERE id = $1', [1]).then((r) => {
    settled = true;
    return r.rows;
  });
  await Promise.resolve();
  expect(settled).toBe(false);
  expect(await pending).toEqual([{ name: 'Tom' }]);
  client.release();
});

it("leaves a database of another copy of pg-mem on that copy's own adapter", () => {
  let other!: IMemoryDb;
  jest.isolateModules(() => {
    other = (require('pg-mem') as typeof import('pg-mem')).newDb();
  });
  expect(new (createPgMemAdapter<object>(other).Pool)().constructor.name).toBe('MemPg');
  expect(new (createPgMemAdapter<object>(database()).Pool)().constructor.name).toBe('PgMemPool');
});
