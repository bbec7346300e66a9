/**
 * Creating and dropping the per-worker databases, in process: names, the leftovers of killed runs (and what is
 * never touched), a failing schema, an unreachable server, a driver that is not installed, and the options.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  databaseName,
  dropLeftoverDatabases,
  hostTag,
  parseDatabaseName,
  provisionDatabases,
} from '../../src/db/provision';
import { splitMysqlStatements } from '../../src/db/schemaApply';
import { DatabaseProvisionError, DatabaseUnreachableError, InvalidOptionsError, SchemaError } from '../../src/errors';
import { validateOptions } from '../../src/preset/options';
import { REPO } from '../helpers/processes';
import { adminFor, type Admin } from './realDatabaseAdmin';

jest.setTimeout(60_000);

const URLS = {
  postgres: 'postgres://postgres@127.0.0.1:5432/test',
  mysql: 'mysql://root@127.0.0.1:3306/test',
} as const;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'jcc-provision-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('names', () => {
  it('carry a tag of this machine and the Jest process id, and only our exact form parses', () => {
    expect(hostTag('build-box-1')).toMatch(/^[0-9a-f]{6}$/);
    expect(hostTag('build-box-1')).toBe(hostTag('build-box-1'));
    expect(hostTag('build-box-1')).not.toBe(hostTag('build-box-2'));
    expect(databaseName(4242, 'w2', 'abc123')).toBe('jcc_abc123_4242_w2');
    expect(parseDatabaseName('jcc_abc123_4242_w2')).toEqual({ host: 'abc123', pid: 4242, role: 'w2' });
    expect(parseDatabaseName('jcc_abc123_4242_t')).toEqual({ host: 'abc123', pid: 4242, role: 't' });
    expect(parseDatabaseName('jcc_abc123_4242_r3w1')).toEqual({ host: 'abc123', pid: 4242, role: 'r3w1' });
    for (const other of ['jcc_abc123_4242_backup', 'jcc_abc123_4242', 'jcc_ABC123_4242_w1', 'xjcc_abc123_4242_w1', 'jcc_abc123_0_w1', 'test'])
      expect(parseDatabaseName(other)).toBeUndefined();
  });
});

describe.each(['postgres', 'mysql'] as const)('%s', (kind) => {
  const url = URLS[kind];
  let admin: Admin;
  beforeAll(async () => {
    admin = await adminFor(kind, url);
  });
  afterAll(() => admin.close());

  it('drops the leftovers of dead Jest processes of this machine, and nothing else', async () => {
    const host = 'abc123';
    const dead = ['jcc_abc123_111_w1', 'jcc_abc123_111_w2', 'jcc_abc123_111_t'];
    const kept = [
      'jcc_abc123_222_w1', // its Jest process is alive
      'jcc_def456_111_w1', // another machine sharing the server
      'jcc_abc123_111_backup', // our prefix, not our form
      'keep_jcc_abc123_111_w1', // not our prefix
    ];
    for (const name of [...dead, ...kept]) await admin.create(name);
    try {
      const dropped = await dropLeftoverDatabases(kind, url, { host, pid: 999, isAlive: (pid) => pid === 222 });
      expect(dropped.sort()).toEqual([...dead].sort());
      expect(await admin.existing([...dead, ...kept])).toEqual(kept);
    } finally {
      for (const name of [...dead, ...kept]) await admin.drop(name);
    }
  });

  it('reports a failing schema statement with its file and line, and leaves no database behind', async () => {
    const file = join(dir, `bad.${kind}.sql`);
    writeFileSync(file, 'CREATE TABLE ok (id int PRIMARY KEY);\n\nINSERT INTO nowhere VALUES (1);\n');
    const host = 'bad000';
    const error = await provisionDatabases({ kind, url, schema: [file], reset: 'delete' }, 2, { host }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SchemaError);
    expect(error).toMatchObject({ code: 'SCHEMA_FAILED', file, line: 3, statement: 'INSERT INTO nowhere VALUES (1)' });
    expect((error as Error).message).toMatch(/nowhere/);
    const ours = (await admin.query(
      kind === 'postgres'
        ? `SELECT datname AS name FROM pg_database WHERE starts_with(datname, 'jcc_bad000_')`
        : `SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME LIKE 'jcc\\_bad000\\_%'`,
    )).map((r) => r.name);
    expect(ours).toEqual([]);
  });

  it('runs schema modules with a handle on the database being built, and the plan reads their rows', async () => {
    const sql = join(dir, `mod.${kind}.sql`);
    writeFileSync(sql, 'CREATE TABLE plans (id int PRIMARY KEY, name varchar(80));\n');
    const mod = join(dir, `mod.${kind}.js`);
    writeFileSync(mod, `module.exports = async (db) => { await db.query('INSERT INTO plans VALUES ($1, $2)', [7, db.kind + ':' + db.name]); };\n`);
    const p = await provisionDatabases({ kind, url, schema: [sql, mod], reset: 'delete' }, 1, { host: 'ad0000' });
    try {
      const plan = JSON.parse(readFileSync(p.state.planFile, 'utf8')) as { kind: string };
      expect(plan.kind).toBe(kind);
      const worker = await adminFor(kind, p.state.urls[0]!);
      try {
        // The module ran on each worker's database itself (on MySQL also on the template, the source of the
        // rows the reset writes back).
        expect(await worker.query('SELECT id, name FROM plans')).toEqual([{ id: 7, name: `${kind}:${p.state.names[0]}` }]);
      } finally {
        await worker.close();
      }
    } finally {
      await p.drop();
    }
    expect(existsSync(p.state.planFile)).toBe(false);
    expect(await admin.existing([...p.state.names, ...(p.template ? [p.template] : [])])).toEqual([]);
  });

  it('fails with DATABASE_UNREACHABLE, password hidden, when nothing listens at the URL', async () => {
    const closed = kind === 'postgres' ? 'postgres://postgres:secret@127.0.0.1:1/test' : 'mysql://root:secret@127.0.0.1:1/test';
    const error = await provisionDatabases({ kind, url: closed, schema: [], reset: 'delete' }, 1).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatabaseUnreachableError);
    expect((error as DatabaseUnreachableError).url).toBe(closed.replace('secret', '***'));
    expect((error as Error).message).not.toContain('secret');
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
  });
});

it('fails with DATABASE_PROVISION_FAILED naming the statement when the user may not create databases', async () => {
  const admin = await adminFor('postgres', URLS.postgres);
  const role = 'jcc_test_no_createdb';
  await admin.query(`DROP ROLE IF EXISTS ${role}`);
  await admin.query(`CREATE ROLE ${role} LOGIN`);
  try {
    const error = await provisionDatabases({ kind: 'postgres', url: `postgres://${role}@127.0.0.1:5432/test`, schema: [], reset: 'delete' }, 1, { host: 'c0ffee' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(DatabaseProvisionError);
    expect(error).toMatchObject({ code: 'DATABASE_PROVISION_FAILED', statement: expect.stringMatching(/^CREATE DATABASE "jcc_c0ffee_\d+_(r\d+)?w1"$/) });
    expect((error as Error).message).toMatch(/permission denied to create database/);
  } finally {
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.close();
  }
});

it('fails with DATABASE_DRIVER_MISSING naming the install command when pg or mysql2 is not installed', () => {
  // The built modules, copied where no node_modules is above them: require('pg') really fails.
  const lonely = join(dir, 'lonely');
  mkdirSync(join(lonely, 'db'), { recursive: true });
  cpSync(join(REPO, 'dist', 'errors.js'), join(lonely, 'errors.js'));
  cpSync(join(REPO, 'dist', 'db', 'drivers.js'), join(lonely, 'db', 'drivers.js'));
  const probe = `
    const { loadPg, loadMysql2 } = require('./db/drivers.js');
    const out = [];
    for (const load of [loadPg, loadMysql2]) {
      try { load(); out.push('loaded'); } catch (e) { out.push({ code: e.code, name: e.name, packageName: e.packageName, message: e.message }); }
    }
    process.stdout.write(JSON.stringify(out));`;
  const out = JSON.parse(execFileSync(process.execPath, ['-e', probe], { cwd: lonely, env: { PATH: process.env.PATH ?? '' } }).toString()) as Array<Record<string, string>>;
  expect(out).toEqual([
    expect.objectContaining({ code: 'DATABASE_DRIVER_MISSING', name: 'DatabaseDriverMissingError', packageName: 'pg' }),
    expect.objectContaining({ code: 'DATABASE_DRIVER_MISSING', name: 'DatabaseDriverMissingError', packageName: 'mysql2' }),
  ]);
  expect(out[0]!.message).toMatch(/database\.kind 'postgres' needs the package pg[\s\S]*npm install --save-dev pg\n/);
  expect(out[1]!.message).toMatch(/npm install --save-dev mysql2\n/);
});

describe('options: database.kind, url, reset', () => {
  const root = REPO;
  const invalid = (database: unknown): InvalidOptionsError => {
    try {
      validateOptions({ database }, root);
    } catch (e) {
      if (e instanceof InvalidOptionsError) return e;
      throw e;
    }
    throw new Error('expected INVALID_OPTIONS');
  };
  const P = 'testEnvironmentOptions.cacheConsistency.database';

  it('resolves a real database with the default reset, and leaves pg-mem options as they were', () => {
    expect(validateOptions({ database: { kind: 'postgres', url: URLS.postgres } }, root).database).toEqual({
      schema: [],
      kind: 'postgres',
      url: URLS.postgres,
      reset: 'delete',
    });
    expect(validateOptions({ database: { kind: 'mysql', url: 'mariadb://root@db:3306', reset: 'truncate' } }, root).database).toEqual({
      schema: [],
      kind: 'mysql',
      url: 'mariadb://root@db:3306',
      reset: 'truncate',
    });
    expect(validateOptions({ database: { kind: 'pg-mem' } }, root).database).toEqual({ schema: [] });
    expect(validateOptions({ database: {} }, root).database).toEqual({ schema: [] });
  });

  it.each([
    [{ kind: 'postgresql', url: URLS.postgres }, `${P}.kind`, /expected 'pg-mem', 'postgres', 'mysql', got the string "postgresql"\. Did you mean 'postgres'\?/],
    [{ kind: 'mariadb', url: URLS.mysql }, `${P}.kind`, /Did you mean 'mysql'\?/],
    [{ kind: 42 }, `${P}.kind`, /got number 42/],
    [{ kind: 'postgres' }, `${P}.url`, /is required with database\.kind 'postgres'.*postgres:\/\/postgres@127\.0\.0\.1:5432\/postgres/],
    [{ kind: 'mysql', url: '' }, `${P}.url`, /expected a non-empty string/],
    [{ kind: 'postgres', url: 'localhost:5432' }, `${P}.url`, /localhost:5432 is not a postgres URL: it must start with postgres:\/\/ or postgresql:\/\/, not localhost:\/\//],
    [{ kind: 'postgres', url: 'not a url' }, `${P}.url`, /"not a url" is not a URL\. Expected something like postgres:\/\//],
    [{ kind: 'postgres', url: 'postgres://u:hunter2@[::1' }, `${P}.url`, /\(not shown: it may hold a password\) is not a URL/],
    [{ kind: 'mysql', url: 'postgres://postgres:hunter2@127.0.0.1/test' }, `${P}.url`, /postgres:\/\/postgres:\*\*\*@127\.0\.0\.1\/test is not a mysql URL: it must start with mysql:\/\/ or mariadb:\/\//],
    [{ kind: 'postgres', url: URLS.postgres, reset: 'rollback' }, `${P}.reset`, /expected 'delete' or 'truncate', got the string "rollback"/],
    [{ url: URLS.postgres }, `${P}.url`, /applies only to a real database/],
    [{ kind: 'pg-mem', reset: 'delete' }, `${P}.reset`, /applies only to a real database/],
    [{ knd: 'postgres' }, `${P}.knd`, /Did you mean "kind"\?/],
  ])('rejects %j at %s', (database, path, message) => {
    const e = invalid(database);
    expect(e.code).toBe('INVALID_OPTIONS');
    expect(e.path).toBe(path);
    expect(e.message).toMatch(message);
    expect(e.message).not.toContain('hunter2');
  });
});

describe('schema modules in globalSetup', () => {
  it('written in TypeScript, go through the project’s transform (as Jest loads a TypeScript globalSetup)', () => {
    // In plain Node, as Jest's parent process is: inside this test, Jest's own require would transform anything.
    const project = join(dir, 'ts-project');
    mkdirSync(project, { recursive: true });
    const file = join(project, 'seed.ts');
    writeFileSync(file, `type Db = { query(sql: string): Promise<unknown> };\nexport default async function seed(db: Db): Promise<void> {\n  await db.query('SELECT 1');\n}\n`);
    const probe = `
      const { normalize } = require(${JSON.stringify(require.resolve('jest-config'))});
      const { schemaModuleLoader } = require(${JSON.stringify(join(REPO, 'dist', 'db', 'schemaApply.js'))});
      (async () => {
        const transform = { '^.+\\\\.ts$': [${JSON.stringify(require.resolve('ts-jest'))}, { tsconfig: { isolatedModules: true, esModuleInterop: true } }] };
        const { options } = await normalize({ rootDir: ${JSON.stringify(project)}, transform }, {});
        let plain;
        try { await (await schemaModuleLoader(undefined))(${JSON.stringify(file)}); plain = 'loaded'; } catch (e) { plain = e.name; }
        const seen = [];
        const mod = await (await schemaModuleLoader(options))(${JSON.stringify(file)});
        await mod.default({ query: async (sql) => seen.push(sql) });
        process.stdout.write(JSON.stringify({ seen, plain }));
      })().catch((e) => { console.error(e); process.exit(1); });`;
    const out = JSON.parse(execFileSync(process.execPath, ['-e', probe], { cwd: project, stdio: ['ignore', 'pipe', 'pipe'] }).toString()) as { seen: string[]; plain: string };
    expect(out.seen).toEqual(['SELECT 1']);
    // Without the project config (your own globalSetup passing none): plain require, which cannot read TypeScript.
    expect(out.plain).toBe('SyntaxError');
  });
});

describe('MySQL scripts', () => {
  it('honour DELIMITER lines, with the line each statement starts on', () => {
    const script = [
      'CREATE TABLE t (id int);',
      'DELIMITER //',
      'CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW',
      'BEGIN',
      '  SET NEW.id = NEW.id + 1;',
      'END//',
      'DELIMITER ;',
      "INSERT INTO t VALUES (1); INSERT INTO t VALUES (';');",
    ].join('\n');
    expect(splitMysqlStatements(script)).toEqual([
      { sql: 'CREATE TABLE t (id int)', line: 1 },
      { sql: 'CREATE TRIGGER t_bi BEFORE INSERT ON t FOR EACH ROW\nBEGIN\n  SET NEW.id = NEW.id + 1;\nEND', line: 3 },
      { sql: 'INSERT INTO t VALUES (1)', line: 8 },
      { sql: "INSERT INTO t VALUES (';')", line: 8 },
    ]);
  });
});
