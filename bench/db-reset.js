#!/usr/bin/env node
// bench/db-reset: what putting a real database back before each test costs, per strategy, in one run.
//
// For PostgreSQL and MySQL/MariaDB, on the service schema in bench/fixtures/db-reset (9 tables, foreign keys,
// seed rows), it times one reset after each of three kinds of test:
//   none      the test wrote nothing (most tests of a suite that also has cache-only tests)
//   typical   1 account, 2 users, 3 posts, 1 audit row inserted, 1 seed row updated
//   bulk      5,000 rows inserted
// and checks after each strategy that the database really is back (rows, seed rows, next sequence value).
// Candidates: the library's strategies (`delete`, the default, and `truncate`), dropping the database and
// cloning it again from the template (PostgreSQL) or re-applying the schema (MySQL), the same DELETE waiting
// for the disk at commit (PostgreSQL), DELETE of every table + ALTER ... AUTO_INCREMENT (MySQL), and ROLLBACK of
// a transaction around the test (a reference only: see the "correct" column).
// Each figure is the median of N resets, with its ratio against the slowest strategy of the same kind of test.
// It also times creating the per-worker databases: creating each and applying the schema to all at once (what
// the library does) against applying the schema once to a template and cloning it (CREATE DATABASE ... TEMPLATE).
//
// Usage: npm run build && node bench/db-reset.js [--kind postgres|mysql] [--resets N]
//          [--postgres URL] [--mysql URL]
const path = require('path');
const { REPO, median, ms, fmt } = require('./lib');

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
}
const RESETS = Number(arg('resets', 60));
const KINDS = arg('kind') ? [arg('kind')] : ['postgres', 'mysql'];
const URLS = {
  postgres: arg('postgres', process.env.BENCH_POSTGRES_URL || 'postgres://postgres@127.0.0.1:5432/test'),
  mysql: arg('mysql', process.env.BENCH_MYSQL_URL || 'mysql://root@127.0.0.1:3306/test'),
};
const SCHEMA = (kind) => [path.join(__dirname, 'fixtures', 'db-reset', `schema.${kind}.sql`)];

function built(file) {
  try {
    return require(path.join(REPO, 'dist', 'db', file));
  } catch {
    console.error('dist/ is missing: run `npm run build` first.');
    process.exit(2);
  }
}
const provision = built('provision');
const { RealDatabase } = built('realTestDb');
const pgEngine = built('postgresEngine');
const myEngine = built('mysqlEngine');
const { withDatabase } = built('databaseUrl');
const { schemaModuleLoader } = built('schemaApply');

// --- the kinds of test ---------------------------------------------------------------------------------------

const WORKLOADS = {
  none: async () => {},
  // Ids come from the rows just written, not literals: ROLLBACK does not rewind sequences.
  typical: async (q) => {
    await q(`INSERT INTO accounts (plan_id, name) VALUES (1, 'acme')`);
    await q(`INSERT INTO users (account_id, name, email) SELECT MAX(id), 'Ann', 'ann@x' FROM accounts`);
    await q(`INSERT INTO users (account_id, name, email) SELECT MAX(id), 'Bob', 'bob@x' FROM accounts`);
    await q(`INSERT INTO posts (user_id, title) SELECT id, 'a' FROM users`);
    await q(`INSERT INTO posts (user_id, title) SELECT MIN(id), 'b' FROM users`);
    await q(`INSERT INTO audit (what) VALUES ('signup')`);
    await q(`UPDATE plans SET name = 'renamed' WHERE id = 1`);
  },
  bulk: async (q) => {
    await q(`INSERT INTO accounts (plan_id, name) VALUES (1, 'acme')`);
    await q(`INSERT INTO users (account_id, name, email) SELECT MAX(id), 'Ann', 'ann@x' FROM accounts`);
    const [{ id }] = await q(`SELECT MAX(id) AS id FROM users`);
    const values = Array.from({ length: 1000 }, (_, i) => `(${Number(id)}, 'post ${i}')`).join(', ');
    for (let i = 0; i < 5; i++) await q(`INSERT INTO posts (user_id, title) VALUES ${values}`);
  },
};

/** Is the database back to the schema's state? Returns a reason when it is not. */
async function checkBack(q) {
  const count = async (table) => Number(Object.values((await q(`SELECT COUNT(*) AS n FROM ${table}`))[0])[0]);
  for (const table of ['accounts', 'users', 'posts', 'audit']) if ((await count(table)) !== 0) return `${table} still holds rows`;
  const plans = (await q('SELECT name FROM plans ORDER BY id')).map((r) => r.name).join(',');
  if (plans !== 'free,pro,team') return `seed rows changed (${plans})`;
  await q(`INSERT INTO accounts (plan_id, name) VALUES (1, 'probe')`);
  const [{ id }] = await q(`SELECT MAX(id) AS id FROM accounts`);
  if (Number(id) !== 1) return `sequences not rewound (next id ${id})`;
  return undefined;
}

// --- candidates ----------------------------------------------------------------------------------------------

/** A candidate: setup() -> { query, reset, close }. */
function libraryStrategy(state, strategy) {
  return async () => {
    const db = new RealDatabase({ ...state, strategy }, 0);
    const handle = db.handle();
    await db.reset();
    return { query: (sql) => handle.query(sql), reset: () => db.reset(), close: () => db.close() };
  };
}

function pgScriptStrategy(state, edit) {
  return async () => {
    const db = new RealDatabase(state, 0);
    const handle = db.handle();
    const script = edit(pgEngine.postgresResetSql(db.plan(), 'delete'));
    const client = await pgEngine.connectPostgres(state.urls[0]);
    await client.query(script);
    return {
      query: (sql) => handle.query(sql),
      reset: () => client.query(script),
      close: async () => {
        await client.end();
        await db.close();
      },
    };
  };
}

function pgRecreate(state, adminUrl, template) {
  return async () => {
    let db = new RealDatabase(state, 0);
    const admin = await pgEngine.connectPostgres(adminUrl);
    const name = state.names[0];
    return {
      query: (sql) => db.handle().query(sql),
      reset: async () => {
        await db.close();
        await pgEngine.dropPostgresDatabase(admin, adminUrl, name);
        await pgEngine.createPostgresDatabase(admin, adminUrl, name, template);
        db = new RealDatabase(state, 0);
        await db.handle().query('SELECT 1'); // the next test's first connection is part of the cost
      },
      close: async () => {
        await db.close();
        await admin.end();
      },
    };
  };
}

function pgRollback(state) {
  return async () => {
    const client = await pgEngine.connectPostgres(state.urls[0]);
    await client.query('BEGIN');
    return {
      query: async (sql) => (await client.query(sql)).rows,
      reset: async () => {
        await client.query('ROLLBACK');
        await client.query('BEGIN');
      },
      close: async () => {
        await client.query('ROLLBACK');
        await client.end();
      },
    };
  };
}

function mysqlDeleteAll(state) {
  return async () => {
    const db = new RealDatabase(state, 0);
    const handle = db.handle();
    const plan = db.plan();
    const tpl = myEngine.quoteMysqlIdent(plan.template);
    const script = [
      'SET FOREIGN_KEY_CHECKS = 0',
      'START TRANSACTION',
      ...plan.tables.map((t) => `DELETE FROM ${t.name}`),
      ...plan.tables.filter((t) => t.seeded).map((t) => `INSERT INTO ${t.name} (${t.columns}) SELECT ${t.columns} FROM ${tpl}.${t.name}`),
      'COMMIT',
      ...plan.tables.filter((t) => t.autoIncrement !== null).map((t) => `ALTER TABLE ${t.name} AUTO_INCREMENT = ${t.autoIncrement}`),
      'SET FOREIGN_KEY_CHECKS = 1',
    ].join(';\n');
    const conn = await myEngine.connectMysql(state.urls[0]);
    await conn.query(script);
    return {
      query: (sql) => handle.query(sql),
      reset: () => conn.query(script),
      close: async () => {
        await conn.end();
        await db.close();
      },
    };
  };
}

function mysqlRecreate(state, url) {
  return async () => {
    let db = new RealDatabase(state, 0);
    const admin = await myEngine.connectMysql(url);
    const name = state.names[0];
    const load = await schemaModuleLoader(undefined);
    return {
      query: (sql) => db.handle().query(sql),
      reset: async () => {
        await db.close();
        await myEngine.dropMysqlDatabase(admin, url, name);
        await myEngine.createMysqlDatabase(admin, url, name);
        await provision.applyMysqlSchema(withDatabase(url, name), name, SCHEMA('mysql'), load);
        db = new RealDatabase(state, 0);
        await db.handle().query('SELECT 1');
      },
      close: async () => {
        await db.close();
        await admin.end();
      },
    };
  };
}

function mysqlRollback(state) {
  return async () => {
    const conn = await myEngine.connectMysql(state.urls[0]);
    await conn.query('START TRANSACTION');
    return {
      query: async (sql) => (await conn.query(sql))[0],
      reset: async () => {
        await conn.query('ROLLBACK');
        await conn.query('START TRANSACTION');
      },
      close: async () => {
        await conn.query('ROLLBACK');
        await conn.end();
      },
    };
  };
}

// --- running -------------------------------------------------------------------------------------------------

async function measure(setup, workload, kind, resets) {
  const ctx = await setup();
  const times = [];
  try {
    for (let i = 0; i < resets; i++) {
      await WORKLOADS[workload](ctx.query, kind);
      const start = process.hrtime.bigint();
      await ctx.reset();
      times.push(ms(start));
    }
    const problem = await checkBack(ctx.query);
    await ctx.reset();
    return { ms: median(times), correct: problem ?? 'yes' };
  } finally {
    await ctx.close();
  }
}

/** Creating 2 worker databases: the library's way, and (PostgreSQL) a template cloned per worker. Median of 3. */
async function provisioning(kind, url) {
  const workers = 2;
  const library = [];
  const template = [];
  const load = await schemaModuleLoader(undefined);
  for (let round = 0; round < 3; round++) {
    let start = process.hrtime.bigint();
    const p = await provision.provisionDatabases({ kind, url, schema: SCHEMA(kind), reset: 'delete' }, workers);
    library.push(ms(start));
    await p.drop();
    if (kind !== 'postgres') continue;
    const adminUrl = pgEngine.postgresAdminUrl(url);
    const tpl = provision.databaseName(process.pid, `b${round}t`);
    const names = [1, 2].map((i) => provision.databaseName(process.pid, `b${round}w${i}`));
    start = process.hrtime.bigint();
    const admin = await pgEngine.connectPostgres(adminUrl);
    await pgEngine.createPostgresDatabase(admin, adminUrl, tpl);
    await provision.applyPostgresSchema(withDatabase(adminUrl, tpl), tpl, SCHEMA(kind), load);
    await Promise.all(
      names.map(async (name) => {
        const own = await pgEngine.connectPostgres(adminUrl);
        await pgEngine.createPostgresDatabase(own, adminUrl, name, tpl);
        await own.end();
      }),
    );
    template.push(ms(start));
    for (const name of [tpl, ...names]) await pgEngine.dropPostgresDatabase(admin, adminUrl, name);
    await admin.end();
  }
  const rows = [[kind === 'postgres' ? 'CREATE DATABASE + schema, per worker at once (library)' : 'CREATE DATABASE + schema, per worker and template (library)', median(library)]];
  if (kind === 'postgres') rows.push(['template + schema, CREATE DATABASE ... TEMPLATE per worker', median(template)]);
  const base = Math.max(...rows.map((r) => r[1]));
  return rows.map(([name, t]) => [name, t, base / t]);
}

async function benchKind(kind) {
  const url = URLS[kind];
  console.log(`\n## ${kind === 'postgres' ? 'PostgreSQL' : 'MySQL/MariaDB'} (${provision.redactUrl(url)})`);
  const version =
    kind === 'postgres'
      ? await (async () => {
          const c = await pgEngine.connectPostgres(pgEngine.postgresAdminUrl(url));
          const v = (await c.query('SHOW server_version')).rows[0].server_version;
          await c.end();
          return `PostgreSQL ${v}`;
        })()
      : await (async () => {
          const c = await myEngine.connectMysql(url);
          const [[{ v }]] = await c.query('SELECT VERSION() AS v');
          await c.end();
          return v;
        })();
  console.log(`server: ${version}; ${RESETS} resets per figure (bulk: ${Math.max(5, Math.round(RESETS / 6))}), median ms per reset\n`);

  console.log('creating 2 worker databases (median of 3; x = times faster than the slower way):');
  for (const [name, t, x] of await provisioning(kind, url)) console.log(`  ${name.padEnd(62)} ${fmt(t, 0).padStart(6)} ms ${`${fmt(x, 1)}x`.padStart(7)}`);

  const p = await provision.provisionDatabases({ kind, url, schema: SCHEMA(kind), reset: 'delete' }, 1);
  let template;
  try {
    const candidates = [];
    if (kind === 'postgres') {
      const adminUrl = pgEngine.postgresAdminUrl(url);
      template = provision.databaseName(process.pid, 't');
      const admin = await pgEngine.connectPostgres(adminUrl);
      await pgEngine.createPostgresDatabase(admin, adminUrl, template, p.state.names[0]);
      await admin.end();
      candidates.push(
        ['delete (default)', libraryStrategy(p.state, 'delete')],
        ['truncate', libraryStrategy(p.state, 'truncate')],
        ['delete, commit waits for the disk', pgScriptStrategy(p.state, (s) => s.replace('synchronous_commit = off', 'synchronous_commit = on'))],
        ['drop + CREATE DATABASE ... TEMPLATE', pgRecreate(p.state, adminUrl, template)],
        ['ROLLBACK (reference)', pgRollback(p.state)],
      );
    } else {
      candidates.push(
        ['delete (default)', libraryStrategy(p.state, 'delete')],
        ['truncate', libraryStrategy(p.state, 'truncate')],
        ['DELETE all + ALTER AUTO_INCREMENT', mysqlDeleteAll(p.state)],
        ['drop + CREATE DATABASE + schema', mysqlRecreate(p.state, url)],
        ['ROLLBACK (reference)', mysqlRollback(p.state)],
      );
    }
    const results = {};
    for (const workload of Object.keys(WORKLOADS)) {
      for (const [name, setup] of candidates) {
        const resets = workload === 'bulk' || /drop/.test(name) ? Math.max(5, Math.round(RESETS / 6)) : RESETS;
        (results[name] ??= {})[workload] = await measure(setup, workload, kind, resets);
      }
    }
    const head = `  ${'strategy'.padEnd(38)}` + Object.keys(WORKLOADS).map((w) => `${w.padStart(10)} ${'x'.padStart(7)}`).join('') + '   back to the schema state?';
    console.log(`\nreset before a test (x = times faster than the slowest strategy for that kind of test):\n${head}`);
    const slowest = Object.fromEntries(Object.keys(WORKLOADS).map((w) => [w, Math.max(...Object.values(results).map((r) => r[w].ms))]));
    for (const [name, r] of Object.entries(results)) {
      const cells = Object.keys(WORKLOADS).map((w) => `${fmt(r[w].ms, 2).padStart(10)} ${`${fmt(slowest[w] / r[w].ms, 1)}x`.padStart(7)}`).join('');
      const wrong = Object.entries(r).filter(([, v]) => v.correct !== 'yes');
      const verdict = name.startsWith('ROLLBACK')
        ? `no: ${wrong[0]?.[1].correct ?? 'rows back'}; and no other connection ever sees the test's rows`
        : wrong.length === 0
          ? 'yes'
          : `no: ${wrong.map(([w, v]) => `${w}: ${v.correct}`).join('; ')}`;
      console.log(`  ${name.padEnd(38)}${cells}   ${verdict}`);
    }
  } finally {
    if (template) {
      const adminUrl = pgEngine.postgresAdminUrl(url);
      const admin = await pgEngine.connectPostgres(adminUrl);
      await pgEngine.dropPostgresDatabase(admin, adminUrl, template);
      await admin.end();
    }
    await p.drop();
  }
}

(async () => {
  console.log(`# bench/db-reset (Node ${process.version})`);
  for (const kind of KINDS) await benchKind(kind);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
