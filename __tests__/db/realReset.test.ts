/**
 * The reset of a real database, in process, on schemas with what breaks naive resets: seed rows of every type,
 * foreign-key cycles, identity and generated columns, partitions, a second schema, triggers, a standalone
 * sequence (PostgreSQL); AUTO_INCREMENT table options, triggers, generated columns, tables without a primary
 * key, case-only changes under a case-insensitive collation (MySQL). For each strategy, the database must
 * come back to exactly the state right after the schema, and the next ids must be the same as then.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectMysql, mysqlChangesSql, mysqlResetSql, parseMysqlChanges } from '../../src/db/mysqlEngine';
import { provisionDatabases, type ProvisionedDatabases } from '../../src/db/provision';
import { RealDatabase, type ResetStrategy } from '../../src/db/realTestDb';
import { toQueryable } from '../../src/db/toQueryable';
import { DatabaseResetError } from '../../src/errors';
import { adminFor } from './realDatabaseAdmin';

jest.setTimeout(60_000);

const POSTGRES = 'postgres://postgres@127.0.0.1:5432/test';
const MYSQL = 'mysql://root@127.0.0.1:3306/test';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'jcc-reset-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function schemaFile(name: string, sql: string): string {
  const file = join(dir, name);
  writeFileSync(file, sql);
  return file;
}

const PG_SCHEMA = `
CREATE SCHEMA billing;
CREATE TABLE billing.invoices (id serial PRIMARY KEY, total numeric(12, 2) NOT NULL);
INSERT INTO billing.invoices (total) VALUES (9.99);
-- a foreign-key cycle, seeded on both sides
CREATE TABLE a (id int PRIMARY KEY, b_id int);
CREATE TABLE b (id int PRIMARY KEY, a_id int REFERENCES a(id));
ALTER TABLE a ADD FOREIGN KEY (b_id) REFERENCES b(id);
INSERT INTO a VALUES (1, NULL);
INSERT INTO b VALUES (1, 1);
UPDATE a SET b_id = 1;
-- every kind of value, an identity column, a generated column
CREATE TABLE typed (
  id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  doc jsonb, raw bytea, amount numeric, at timestamptz, day date, tags text[], half real, ratio double precision,
  twice bigint GENERATED ALWAYS AS (id * 2) STORED
);
INSERT INTO typed (doc, raw, amount, at, day, tags, half, ratio) VALUES
  ('{"a": [1, "x"], "b": null, "c": "it''s"}', '\\x00ff10', 12345678901234567890.123456789,
   '2024-01-02 03:04:05.678901+00', '2024-02-29', '{x,"y z",NULL}', 0.1, 0.30000000000000004);
-- a partitioned table
CREATE TABLE events (id int NOT NULL, at date NOT NULL, what text) PARTITION BY RANGE (at);
CREATE TABLE events_2024 PARTITION OF events FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
INSERT INTO events VALUES (1, '2024-06-01', 'seeded');
-- a trigger that writes elsewhere: putting the seed rows back must not fire it again
CREATE TABLE audit (id serial PRIMARY KEY, what text);
CREATE FUNCTION audit_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN INSERT INTO audit (what) VALUES (TG_TABLE_NAME); RETURN NEW; END $$;
CREATE TABLE watched (id serial PRIMARY KEY, name text);
CREATE TRIGGER watched_audit AFTER INSERT ON watched FOR EACH ROW EXECUTE FUNCTION audit_insert();
INSERT INTO watched (name) VALUES ('seed');
-- a sequence no table owns
CREATE SEQUENCE counter START 100;
SELECT nextval('counter');
`;

const PG_TABLES = ['billing.invoices', 'a', 'b', 'typed', 'events', 'audit', 'watched'];

/** Every row of every table as PostgreSQL's own text, and every sequence: equal means identical. */
async function pgState(db: RealDatabase): Promise<Record<string, unknown>> {
  const q = db.handle().query.bind(db.handle());
  const out: Record<string, unknown> = {};
  for (const t of PG_TABLES) out[t] = (await q(`SELECT x::text AS row FROM ${t} x ORDER BY 1`)).map((r) => r.row);
  out.sequences = await q(`SELECT schemaname, sequencename, last_value FROM pg_sequences ORDER BY 1, 2`);
  return out;
}

async function pgMess(db: RealDatabase): Promise<void> {
  const q = db.handle().query.bind(db.handle());
  await q(`INSERT INTO billing.invoices (total) VALUES (1)`);
  await q(`UPDATE billing.invoices SET total = 0 WHERE id = 1`);
  await q(`INSERT INTO a VALUES (2, NULL)`);
  await q(`INSERT INTO b VALUES (2, 2)`);
  await q(`UPDATE a SET b_id = 2 WHERE id = 2`);
  await q(`UPDATE typed SET doc = '{}', raw = '\\x01', tags = '{}' WHERE id = 1`);
  await q(`INSERT INTO typed (doc) VALUES ('[1]')`);
  await q(`INSERT INTO events VALUES (2, '2024-07-01', 'new')`);
  await q(`DELETE FROM events WHERE id = 1`);
  await q(`INSERT INTO watched (name) VALUES ('new')`);
  await q(`SELECT nextval('counter')`);
}

describe('PostgreSQL', () => {
  let provisioned: ProvisionedDatabases;
  const schema = () => [schemaFile('pg.sql', PG_SCHEMA)];
  beforeAll(async () => {
    provisioned = await provisionDatabases({ kind: 'postgres', url: POSTGRES, schema: schema(), reset: 'delete' }, 1);
  });
  afterAll(() => provisioned.drop());

  describe.each(['delete', 'truncate'] as const)("reset: '%s'", (strategy: ResetStrategy) => {
    let db: RealDatabase;
    beforeAll(() => {
      db = new RealDatabase({ ...provisioned.state, strategy }, 0);
    });
    afterAll(() => db.close());

    it('puts every row, value and sequence back exactly, and the next ids are the schema’s next ids', async () => {
      const q = db.handle().query.bind(db.handle());
      await db.reset();
      const initial = await pgState(db);
      expect(initial.audit).toEqual(['(1,watched)']);
      expect(initial.typed).toEqual([
        `(1,"{""a"": [1, ""x""], ""b"": null, ""c"": ""it's""}","\\\\x00ff10",12345678901234567890.123456789,"2024-01-02 03:04:05.678901+00",2024-02-29,"{x,""y z"",NULL}",0.1,0.30000000000000004,2)`,
      ]);
      for (let round = 0; round < 2; round++) {
        await pgMess(db);
        expect(await pgState(db)).not.toEqual(initial);
        await db.reset();
        expect(await pgState(db)).toEqual(initial);
      }
      expect(await q(`INSERT INTO watched (name) VALUES ('next') RETURNING id`)).toEqual([{ id: 2 }]);
      expect(await q(`INSERT INTO typed (doc) VALUES ('1') RETURNING id::int, twice::int`)).toEqual([{ id: 2, twice: 4 }]);
      expect(await q(`SELECT nextval('counter')::int AS n`)).toEqual([{ n: 101 }]);
      await db.reset();
    });

    it('fails with DATABASE_RESET_FAILED naming the connection that holds a transaction open', async () => {
      const client = await (db.handle().pool as unknown as { connect(): Promise<{ query(s: string): Promise<unknown>; release(): void }> }).connect();
      try {
        await client.query('BEGIN');
        await client.query(`UPDATE watched SET name = 'locked' WHERE id = 1`);
        const error = await db.reset().then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(DatabaseResetError);
        expect((error as DatabaseResetError).code).toBe('DATABASE_RESET_FAILED');
        expect((error as Error).message).toMatch(/lock timeout/);
        expect((error as Error).message).toMatch(/idle in transaction.*UPDATE watched SET name = 'locked'/);
      } finally {
        await client.query('ROLLBACK');
        client.release();
      }
      await db.reset(); // and once the transaction ended, the next reset works
      expect(await db.handle().query(`SELECT name FROM watched`)).toEqual([{ name: 'seed' }]);
    });
  });

  it('is recognised by the matcher’s database normalisation as PostgreSQL', async () => {
    const db = new RealDatabase(provisioned.state, 0);
    try {
      const handle = toQueryable(db.handle());
      expect({ kind: handle.kind, dialect: handle.dialect }).toEqual({ kind: 'testDb', dialect: 'postgres' });
      expect(handle.describe()).toBe(`testDb() (PostgreSQL database ${provisioned.state.names[0]})`);
      expect(await handle.query('SELECT id FROM a')).toEqual([{ id: 1 }]);
    } finally {
      await db.close();
    }
  });

  describe('as a user who may not disable triggers (no superuser)', () => {
    const role = 'jcc_test_plain_user';
    let plain: ProvisionedDatabases | undefined;
    let db: RealDatabase;
    beforeAll(async () => {
      const admin = await adminFor('postgres', POSTGRES);
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.query(`CREATE ROLE ${role} LOGIN CREATEDB`);
      await admin.close();
      // Foreign keys enforced during the reset: an unseeded cycle, a chain of seeded tables.
      const file = schemaFile(
        'plain.sql',
        `CREATE TABLE parent (id serial PRIMARY KEY, name text);
         CREATE TABLE child (id serial PRIMARY KEY, parent_id int NOT NULL REFERENCES parent(id));
         CREATE TABLE x (id int PRIMARY KEY, y_id int);
         CREATE TABLE y (id int PRIMARY KEY, x_id int REFERENCES x(id));
         ALTER TABLE x ADD FOREIGN KEY (y_id) REFERENCES y(id);
         INSERT INTO parent (name) VALUES ('p');
         INSERT INTO child (parent_id) VALUES (1);`,
      );
      plain = await provisionDatabases({ kind: 'postgres', url: `postgres://${role}@127.0.0.1:5432/test`, schema: [file], reset: 'delete' }, 1);
      db = new RealDatabase(plain.state, 0);
    });
    afterAll(async () => {
      await db?.close();
      await plain?.drop();
      const admin = await adminFor('postgres', POSTGRES);
      await admin.query(`DROP ROLE IF EXISTS ${role}`);
      await admin.close();
    });

    it('deletes in foreign-key order and empties cycles with one TRUNCATE', async () => {
      expect(db.plan()).toMatchObject({ replicationRole: false, cycles: [['public.x', 'public.y']] });
      const q = db.handle().query.bind(db.handle());
      await q(`INSERT INTO parent (name) VALUES ('q')`);
      await q(`INSERT INTO child (parent_id) VALUES (2)`);
      await q(`INSERT INTO x VALUES (1, NULL)`);
      await q(`INSERT INTO y VALUES (1, 1)`);
      await q(`UPDATE x SET y_id = 1`);
      await db.reset();
      expect(await q(`SELECT * FROM parent`)).toEqual([{ id: 1, name: 'p' }]);
      expect(await q(`SELECT * FROM child`)).toEqual([{ id: 1, parent_id: 1 }]);
      expect(await q(`SELECT count(*)::int AS n FROM x`)).toEqual([{ n: 0 }]);
      expect(await q(`INSERT INTO parent (name) VALUES ('r') RETURNING id`)).toEqual([{ id: 2 }]);
    });
  });
});

const MYSQL_SCHEMA = `
CREATE TABLE plans (id int AUTO_INCREMENT PRIMARY KEY, name varchar(50) NOT NULL) DEFAULT CHARSET utf8mb4 COLLATE utf8mb4_general_ci;
CREATE TABLE users (
  id int AUTO_INCREMENT PRIMARY KEY, plan_id int, name varchar(50) NOT NULL, email varchar(100),
  doubled int AS (plan_id * 2) PERSISTENT,
  FOREIGN KEY (plan_id) REFERENCES plans(id)
);
CREATE TABLE posts (id bigint AUTO_INCREMENT PRIMARY KEY, user_id int NOT NULL, FOREIGN KEY (user_id) REFERENCES users(id)) AUTO_INCREMENT = 1000;
CREATE TABLE typed (id int PRIMARY KEY, doc json, raw varbinary(16), amount decimal(30, 9), at datetime(6), half float, ratio double);
CREATE TABLE loose (name varchar(20), n int);
CREATE TABLE tags (name varchar(20) PRIMARY KEY);
DELIMITER //
CREATE TRIGGER users_email BEFORE INSERT ON users FOR EACH ROW
BEGIN
  IF NEW.email IS NULL THEN SET NEW.email = CONCAT(LOWER(NEW.name), '@example.com'); END IF;
END//
DELIMITER ;
INSERT INTO plans (name) VALUES ('Free'), ('Pro');
INSERT INTO users (plan_id, name) VALUES (1, 'Seed');
INSERT INTO typed VALUES (1, '{"a": [1, "x"], "b": null}', 0x00FF10, 12345678901234567890.123456789, '2024-01-02 03:04:05.678901', 0.1, 0.30000000000000004);
INSERT INTO loose VALUES ('dup', 1), ('dup', 1);
`;

const MYSQL_TABLES = ['plans', 'users', 'posts', 'typed', 'loose', 'tags'];

async function mysqlState(db: RealDatabase): Promise<Record<string, unknown>> {
  const q = db.handle().query.bind(db.handle());
  const out: Record<string, unknown> = {};
  for (const t of MYSQL_TABLES) {
    // HEX of every column: byte-exact, whatever the collation says is equal.
    const cols = (await q(`SELECT COLUMN_NAME AS c FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ? ORDER BY ORDINAL_POSITION`, [t])).map((r) => `COALESCE(HEX(\`${String(r.c)}\`), 'NULL')`);
    out[t] = (await q(`SELECT CONCAT_WS(',', ${cols.join(', ')}) AS row FROM ${t} ORDER BY 1`)).map((r) => r.row);
  }
  out.autoIncrement = await q(`SELECT TABLE_NAME AS t, AUTO_INCREMENT AS ai FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() ORDER BY 1`);
  return out;
}

describe('MySQL / MariaDB', () => {
  let provisioned: ProvisionedDatabases;
  beforeAll(async () => {
    provisioned = await provisionDatabases({ kind: 'mysql', url: MYSQL, schema: [schemaFile('my.sql', MYSQL_SCHEMA)], reset: 'delete' }, 1);
  });
  afterAll(() => provisioned.drop());

  describe.each(['delete', 'truncate'] as const)("reset: '%s'", (strategy: ResetStrategy) => {
    let db: RealDatabase;
    beforeAll(() => {
      db = new RealDatabase({ ...provisioned.state, strategy }, 0);
    });
    afterAll(() => db.close());

    it('puts every row, value and AUTO_INCREMENT back exactly', async () => {
      const q = db.handle().query.bind(db.handle());
      await db.reset();
      const initial = await mysqlState(db);
      expect(initial.users).toEqual([expect.stringContaining(Buffer.from('seed@example.com').toString('hex').toUpperCase())]);
      const mess: Array<[string, unknown[]?]> = [
        [`UPDATE plans SET name = 'free' WHERE id = 1`], // a change only a byte comparison sees
        [`INSERT INTO users (plan_id, name) VALUES (2, 'New')`],
        [`INSERT INTO posts (user_id) VALUES (1)`],
        [`UPDATE typed SET doc = '[]', raw = 0x01, half = 0.2 WHERE id = 1`],
        [`DELETE FROM loose LIMIT 1`],
        [`INSERT INTO tags VALUES ('t')`],
      ];
      for (const [sql, params] of mess) {
        await q(sql, params);
        expect(await mysqlState(db)).not.toEqual(initial);
        await db.reset();
        expect(await mysqlState(db)).toEqual(initial);
      }
      // A failed insert moves the counter without leaving a row: found and rewound too.
      await expect(q(`INSERT INTO users (plan_id, name) VALUES (99, 'no such plan')`)).rejects.toThrow(/foreign key/);
      await db.reset();
      expect(await mysqlState(db)).toEqual(initial);
      await q(`INSERT INTO posts (user_id) VALUES (1)`);
      expect(await q(`SELECT id FROM posts`)).toEqual([{ id: 1000 }]);
      await q(`INSERT INTO users (plan_id, name) VALUES (1, 'Next')`);
      expect(await q(`SELECT id, email FROM users WHERE name = 'Next'`)).toEqual([{ id: 2, email: 'next@example.com' }]);
      await db.reset();
    });
  });

  it("with 'delete', writes nothing when the test changed nothing", async () => {
    const db = new RealDatabase(provisioned.state, 0);
    try {
      const plan = db.plan();
      if (plan.kind !== 'mysql') throw new Error('expected a MySQL plan');
      await db.reset();
      const conn = await connectMysql(provisioned.state.urls[0]!);
      try {
        const unchanged = parseMysqlChanges((await conn.query(mysqlChangesSql(plan)))[0]);
        // `loose` has no primary key: its rows are always written back; nothing else is touched.
        expect(mysqlResetSql(plan, unchanged)).toBe(
          'SET FOREIGN_KEY_CHECKS = 0;\nSTART TRANSACTION;\nDELETE FROM `loose`;\nINSERT INTO `loose` (`name`, `n`) SELECT `name`, `n` FROM `' +
            plan.template +
            '`.`loose`;\nCOMMIT;\nSET FOREIGN_KEY_CHECKS = 1;',
        );
        await db.handle().query(`UPDATE plans SET name = 'free' WHERE id = 1`);
        const changed = parseMysqlChanges((await conn.query(mysqlChangesSql(plan)))[0]);
        expect([...changed.changedSeeds]).toEqual(['plans']);
      } finally {
        await conn.end();
      }
    } finally {
      await db.close();
    }
  });

  it('fails with DATABASE_RESET_FAILED naming the connection that holds a transaction open', async () => {
    const db = new RealDatabase({ ...provisioned.state, strategy: 'delete' }, 0);
    const pool = db.handle().pool as unknown as { getConnection(): Promise<{ query(s: string): Promise<unknown>; release(): void }> };
    const c = await pool.getConnection();
    try {
      // A test that inserted in a transaction and never ended it: the reset must TRUNCATE users (its counter moved).
      await c.query('START TRANSACTION');
      await c.query(`INSERT INTO users (plan_id, name) VALUES (1, 'Uncommitted')`);
      const error = await db.reset().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(DatabaseResetError);
      expect((error as Error).message).toMatch(/Lock wait timeout/);
      expect((error as Error).message).toMatch(/connection \d+ \(Sleep for \d+ s, idle in transaction\)/);
    } finally {
      await c.query('ROLLBACK');
      c.release();
    }
    await db.reset();
    expect(await db.handle().query(`SELECT name FROM plans ORDER BY id`)).toEqual([{ name: 'Free' }, { name: 'Pro' }]);
    await db.close();
  });
});
