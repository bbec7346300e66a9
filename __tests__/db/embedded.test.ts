import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaError } from '../../src';
import { createEmbeddedDb } from '../../src/db/embedded';
import { splitSqlStatements } from '../../src/db/sqlStatements';

const dir = mkdtempSync(join(tmpdir(), 'jcc-schema-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

describe('splitSqlStatements', () => {
  it('splits on top-level semicolons only, and reports the line of each statement', () => {
    const sql = [
      '-- a comment; with a semicolon',
      "CREATE TABLE a (s text DEFAULT 'x;y');",
      '/* block; comment */',
      'CREATE TABLE "b;c" (id int);',
      '',
      "CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql;",
      "INSERT INTO a VALUES ('it''s; fine')",
    ].join('\n');
    expect(splitSqlStatements(sql)).toEqual([
      { sql: "CREATE TABLE a (s text DEFAULT 'x;y')", line: 2 },
      { sql: 'CREATE TABLE "b;c" (id int)', line: 4 },
      { sql: 'CREATE FUNCTION f() RETURNS int AS $body$ SELECT 1; $body$ LANGUAGE sql', line: 6 },
      { sql: "INSERT INTO a VALUES ('it''s; fine')", line: 7 },
    ]);
  });

  it('drops empty and comment-only pieces', () => {
    expect(splitSqlStatements(';;\n-- nothing\n;')).toEqual([]);
  });
});

describe('createEmbeddedDb', () => {
  it('applies SQL files in order and resets to the schema state in O(1)', async () => {
    const db = createEmbeddedDb([
      file('one.sql', 'CREATE TABLE users (id int PRIMARY KEY, name text);'),
      file('two.sql', "INSERT INTO users VALUES (1, 'seed');"),
    ]);
    await db.query('INSERT INTO users VALUES (2, $1)', ['Tom']);
    expect(await db.query('SELECT count(*) AS n FROM users')).toEqual([{ n: 2 }]);
    await db.reset();
    expect(await db.query('SELECT name FROM users')).toEqual([{ name: 'seed' }]);
  });

  it('runs schema modules (async functions) after the SQL before them', async () => {
    const mod = file('seed.js', "module.exports = async (db) => { await db.query(\"INSERT INTO t VALUES (7)\"); };");
    const db = createEmbeddedDb([file('t.sql', 'CREATE TABLE t (id int);'), mod]);
    expect(await db.query('SELECT id FROM t')).toEqual([{ id: 7 }]);
    await db.query('DELETE FROM t');
    await db.reset();
    expect(await db.query('SELECT id FROM t')).toEqual([{ id: 7 }]);
  });

  it('accepts a module with a default export', async () => {
    const mod = file('esm-like.js', "exports.default = (db) => db.mem.public.none('CREATE TABLE d (id int)');");
    const db = createEmbeddedDb([mod]);
    await db.ready;
    expect(await db.query('SELECT * FROM d')).toEqual([]);
  });

  it('names the file, the line and the statement when a statement fails', () => {
    const bad = file('bad.sql', 'CREATE TABLE ok (id int);\n\nCREATE TABLE broken (id int REFERENCES nowhere(id));\n');
    let err: unknown;
    try {
      createEmbeddedDb([bad]);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(SchemaError);
    const e = err as SchemaError;
    expect(e.code).toBe('SCHEMA_FAILED');
    expect(e.file).toBe(bad);
    expect(e.line).toBe(3);
    expect(e.statement).toBe('CREATE TABLE broken (id int REFERENCES nowhere(id))');
    expect(e.message.replace(dir, '<dir>')).toMatchSnapshot();
  });

  it('reports a schema module that is not a function, or that throws, through query()', async () => {
    const notFn = createEmbeddedDb([file('nofn.js', 'module.exports = 42;')]);
    await expect(notFn.query('SELECT 1')).rejects.toThrow(/must export a function/);
    const throws = createEmbeddedDb([file('throws.js', "module.exports = async () => { throw new Error('boom'); };")]);
    await expect(throws.query('SELECT 1')).rejects.toMatchObject({ code: 'SCHEMA_FAILED', message: expect.stringContaining('boom') });
  });
});

describe('createEmbeddedDb after a test changed the schema', () => {
  it('builds the database again from the schema: the new table is gone, the pool keeps working', async () => {
    const db = createEmbeddedDb([
      file('base.sql', 'CREATE TABLE users (id int PRIMARY KEY, name text);'),
      file('base-seed.js', "module.exports = (db) => db.query(\"INSERT INTO users VALUES (1, 'seed')\");"),
    ]);
    const pool = db.pool;
    await db.query('CREATE TABLE scratch (id int)');
    await db.query("INSERT INTO users VALUES (2, 'Tom')");
    await db.reset();
    await expect(db.query('SELECT * FROM scratch')).rejects.toThrow(/scratch/);
    expect((await pool.query('SELECT id, name FROM users')).rows).toEqual([{ id: 1, name: 'seed' }]);
    expect(db.mem.public.many('SELECT count(*) AS n FROM users')).toEqual([{ n: 1 }]);
    await db.query("INSERT INTO users VALUES (3, 'Jerry')");
    await db.reset(); // and the O(1) restore works again on the new instance
    expect(await db.query('SELECT id FROM users')).toEqual([{ id: 1 }]);
  });
});
