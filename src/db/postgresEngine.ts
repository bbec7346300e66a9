import { DatabaseProvisionError, DatabaseUnreachableError } from '../errors';
import { databaseOf, redactUrl, withDatabase } from './databaseUrl';
import { loadPg, type PgClient, type PgResult } from './drivers';

/**
 * PostgreSQL: creating and dropping databases, and the reset plan: everything the reset needs, read once in
 * globalSetup from a worker's database right after the schema was applied (so workers never introspect).
 */

/** How the database is put back before each test. docs/real-databases.md#reset has the measured costs. */
export type PostgresResetStrategy = 'delete' | 'truncate';

export interface PostgresResetPlan {
  kind: 'postgres';
  /** Every user table, referencing tables first (the order DELETE needs when foreign keys are enforced). */
  tables: Array<{ name: string; only: boolean }>;
  /** Tables that reference each other in a cycle (more than one table): DELETE cannot empty them one by one. */
  cycles: string[][];
  /** Rows the schema inserted, per table, in insert order (referenced tables first), as JSON text. */
  seeds: Array<{ name: string; columns: string; json: string }>;
  /** Every sequence and its value right after the schema. */
  sequences: Array<{ name: string; value: string; called: boolean }>;
  /** The user may `SET session_replication_role = replica` (no triggers, no foreign key checks during the reset). */
  replicationRole: boolean;
}

export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** A dollar-quoted literal whose tag does not occur in the text. */
export function dollarQuote(text: string): string {
  let tag = '$jcc$';
  for (let i = 1; text.includes(tag); i++) tag = `$jcc${i}$`;
  return `${tag}${text}${tag}`;
}

function rowsOf(result: PgResult | PgResult[]): Array<Record<string, unknown>> {
  return Array.isArray(result) ? (result[result.length - 1]?.rows ?? []) : result.rows;
}

/** Connects a node-postgres Client; a refused connection becomes DATABASE_UNREACHABLE. */
export async function connectPostgres(url: string): Promise<PgClient> {
  const { Client } = loadPg();
  const client = new Client({ connectionString: url });
  // A server-side termination of an idle client must not crash the process (it is reported on the next query).
  client.on('error', () => {});
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => {});
    throw new DatabaseUnreachableError(redactUrl(url), (err as Error)?.message ?? String(err), err);
  }
  return client;
}

/** The maintenance URL: the URL's own database, or `postgres` when it names none. */
export function postgresAdminUrl(url: string): string {
  return databaseOf(url) ? url : withDatabase(url, 'postgres');
}

async function admin<T>(client: PgClient, url: string, sql: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new DatabaseProvisionError(redactUrl(url), sql, (err as Error)?.message ?? String(err), err);
  }
}

export async function listPostgresDatabases(client: PgClient, url: string, prefix: string): Promise<string[]> {
  const sql = `SELECT datname FROM pg_database WHERE starts_with(datname, $1) ORDER BY datname`;
  return admin(client, url, sql, async () => rowsOf(await client.query(sql, [prefix])).map((r) => String(r.datname)));
}

export async function createPostgresDatabase(client: PgClient, url: string, name: string, template?: string): Promise<void> {
  const sql = `CREATE DATABASE ${quoteIdent(name)}${template ? ` TEMPLATE ${quoteIdent(template)}` : ''}`;
  await admin(client, url, sql, () => client.query(sql));
  // A throwaway test database: commits need not wait for the disk (same visibility, no durability).
  const tune = `ALTER DATABASE ${quoteIdent(name)} SET synchronous_commit = off`;
  await admin(client, url, tune, () => client.query(tune));
}

export async function dropPostgresDatabase(client: PgClient, url: string, name: string): Promise<void> {
  const version = Number(rowsOf(await client.query('SHOW server_version_num'))[0]?.server_version_num ?? 0);
  if (version >= 130000) {
    const sql = `DROP DATABASE IF EXISTS ${quoteIdent(name)} WITH (FORCE)`;
    await admin(client, url, sql, () => client.query(sql));
    return;
  }
  const kick = 'SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()';
  await admin(client, url, kick, () => client.query(kick, [name]));
  const sql = `DROP DATABASE IF EXISTS ${quoteIdent(name)}`;
  await admin(client, url, sql, () => client.query(sql));
}

/** Strongly connected components of size > 1 (Tarjan); `edges` maps a table to the tables it references. */
function cyclesOf(nodes: string[], edges: Map<string, Set<string>>): string[][] {
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const on = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    on.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (on.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        on.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) out.push(component.sort());
    }
  };
  for (const n of nodes) if (!idx.has(n)) visit(n);
  return out;
}

/**
 * Referenced tables first (the order INSERT needs), deterministic: a depth-first post-order over the sorted
 * names. Cycles are broken wherever the walk meets them (the reset handles those tables together).
 */
function insertOrder(nodes: string[], edges: Map<string, Set<string>>): string[] {
  const done = new Set<string>();
  const active = new Set<string>();
  const out: string[] = [];
  const visit = (v: string) => {
    if (done.has(v) || active.has(v)) return;
    active.add(v);
    for (const w of [...(edges.get(v) ?? [])].sort()) if (w !== v) visit(w);
    active.delete(v);
    done.add(v);
    out.push(v);
  };
  for (const n of [...nodes].sort()) visit(n);
  return out;
}

const TABLES_SQL = `
SELECT c.oid::int8 AS oid, format('%I.%I', n.nspname, c.relname) AS name, c.relkind::text AS kind
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_(toast|temp_)'
  AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e')
ORDER BY 2`;

const FOREIGN_KEYS_SQL = `SELECT conrelid::int8 AS child, confrelid::int8 AS parent FROM pg_constraint WHERE contype = 'f' AND conparentid = 0`;

const COLUMNS_SQL = `
SELECT attrelid::int8 AS oid, string_agg(quote_ident(attname), ', ' ORDER BY attnum) AS columns
FROM pg_attribute WHERE attrelid = ANY($1::oid[]) AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
GROUP BY attrelid`;

const SEQUENCES_SQL = `
SELECT format('%I.%I', schemaname, sequencename) AS name, last_value::text AS last, start_value::text AS start
FROM pg_sequences WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1`;

/** Reads the reset plan of the database `client` is connected to (right after the schema, before any test). */
export async function readPostgresPlan(client: PgClient): Promise<PostgresResetPlan> {
  const tables = rowsOf(await client.query(TABLES_SQL)).map((r) => ({ oid: String(r.oid), name: String(r.name), only: r.kind === 'r' }));
  const byOid = new Map(tables.map((t) => [t.oid, t.name]));
  const edges = new Map<string, Set<string>>();
  for (const fk of rowsOf(await client.query(FOREIGN_KEYS_SQL))) {
    const child = byOid.get(String(fk.child));
    const parent = byOid.get(String(fk.parent));
    if (!child || !parent) continue;
    if (!edges.has(child)) edges.set(child, new Set());
    edges.get(child)!.add(parent);
  }
  const names = tables.map((t) => t.name);
  const order = insertOrder(names, edges);
  const info = new Map(tables.map((t) => [t.name, t]));

  const seeds: PostgresResetPlan['seeds'] = [];
  if (tables.length > 0) {
    // One query for every table's rows: json_agg keeps every type's text form, which json_populate_recordset reads back.
    const union = order
      .map((name, i) => `SELECT ${i} AS i, (SELECT json_agg(t)::text FROM ${info.get(name)!.only ? 'ONLY ' : ''}${name} t) AS json`)
      .join(' UNION ALL ');
    const rows = rowsOf(await client.query(union));
    const columns = new Map(
      rowsOf(await client.query(COLUMNS_SQL, [tables.map((t) => t.oid)])).map((r) => [byOid.get(String(r.oid))!, String(r.columns)]),
    );
    for (const row of rows.sort((a, b) => Number(a.i) - Number(b.i))) {
      if (row.json === null || row.json === undefined) continue;
      const name = order[Number(row.i)]!;
      seeds.push({ name, columns: columns.get(name) ?? '', json: String(row.json) });
    }
  }
  const sequences = rowsOf(await client.query(SEQUENCES_SQL)).map((r) =>
    r.last === null || r.last === undefined
      ? { name: String(r.name), value: String(r.start), called: false }
      : { name: String(r.name), value: String(r.last), called: true },
  );
  let replicationRole = true;
  try {
    await client.query('BEGIN');
    await client.query('SET LOCAL session_replication_role = replica');
  } catch {
    replicationRole = false;
  } finally {
    await client.query('ROLLBACK');
  }
  return {
    kind: 'postgres',
    tables: [...order].reverse().map((name) => ({ name, only: info.get(name)!.only })),
    cycles: cyclesOf(names, edges),
    seeds,
    sequences,
    replicationRole,
  };
}

/**
 * How long the reset waits for a lock another connection holds before it fails with DATABASE_RESET_FAILED.
 * Well inside Jest's default 5 s hook timeout, so the error (naming the blocker) is what the test reports, not
 * a hook timeout. Nothing legitimate holds a lock on a worker's database between two tests.
 */
export const RESET_LOCK_TIMEOUT_MS = 1000;

/**
 * The whole reset as one simple-protocol script (one round trip, one transaction, no disk wait at commit):
 * empty every table, put the schema's rows back, and every sequence where the schema left it.
 */
export function postgresResetSql(plan: PostgresResetPlan, strategy: PostgresResetStrategy): string {
  const out = ['BEGIN', 'SET LOCAL synchronous_commit = off', `SET LOCAL lock_timeout = ${RESET_LOCK_TIMEOUT_MS}`];
  if (plan.replicationRole) out.push('SET LOCAL session_replication_role = replica');
  const target = (t: { name: string; only: boolean }) => `${t.only ? 'ONLY ' : ''}${t.name}`;
  if (plan.tables.length > 0) {
    if (strategy === 'truncate') {
      out.push(`TRUNCATE ${plan.tables.map(target).join(', ')} RESTART IDENTITY CASCADE`);
    } else {
      // Without replica mode, foreign keys are checked: tables in a reference cycle go in one TRUNCATE.
      const inCycle = new Set(plan.replicationRole ? [] : plan.cycles.flat());
      if (inCycle.size > 0) out.push(`TRUNCATE ${plan.tables.filter((t) => inCycle.has(t.name)).map(target).join(', ')}`);
      for (const t of plan.tables) if (!inCycle.has(t.name)) out.push(`DELETE FROM ${target(t)}`);
    }
  }
  for (const seed of plan.seeds) {
    out.push(
      `INSERT INTO ${seed.name} (${seed.columns}) OVERRIDING SYSTEM VALUE SELECT ${seed.columns} FROM json_populate_recordset(NULL::${seed.name}, ${dollarQuote(seed.json)})`,
    );
  }
  if (plan.sequences.length > 0) {
    out.push(`SELECT ${plan.sequences.map((s) => `setval(${dollarQuote(s.name)}, ${s.value}, ${s.called})`).join(', ')}`);
  }
  out.push('COMMIT');
  return out.join(';\n') + ';';
}

/** Who else holds a transaction open on this database, for the message of a reset that timed out on a lock. */
export async function postgresBlockers(client: PgClient): Promise<string> {
  try {
    const rows = rowsOf(
      await client.query(
        `SELECT pid, application_name AS app, state, left(regexp_replace(query, '\\s+', ' ', 'g'), 120) AS query FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%' ORDER BY pid`,
      ),
    );
    return rows
      .map((r) => `  pid ${String(r.pid)}${r.app ? ` application_name '${String(r.app)}'` : ''} (${String(r.state)}), last statement: ${String(r.query)}`)
      .join('\n');
  } catch {
    return '';
  }
}
