import { DatabaseProvisionError, DatabaseUnreachableError } from '../errors';
import { databaseOf, redactUrl, withDatabase } from './databaseUrl';
import { loadMysql2, type MysqlConnection } from './drivers';

/**
 * MySQL / MariaDB: creating and dropping databases, and the reset plan. The schema is applied to every worker
 * database (CREATE TABLE ... LIKE would lose foreign keys, triggers and views) and once more to a template
 * database, which stays until teardown as the source of the schema's rows: `INSERT ... SELECT` across
 * databases copies them exactly, whatever their types.
 */

/**
 * `delete`: read what changed (one round trip: AUTO_INCREMENT counters, unseeded tables holding rows, seeded
 * tables whose rows differ from the template's), then DELETE those and write the schema's rows back, except
 * tables whose AUTO_INCREMENT counter moved: those are TRUNCATEd (InnoDB's ALTER TABLE ... AUTO_INCREMENT costs
 * twice a TRUNCATE). Nothing changed: nothing is written.
 * `truncate`: TRUNCATE every table, in one round trip.
 */
export type MysqlResetStrategy = 'delete' | 'truncate';

export interface MysqlTablePlan {
  /** Quoted table name (in the worker's own database). */
  name: string;
  /** The bare name, as information_schema lists it. */
  table: string;
  /** Quoted, comma separated columns that take values (generated columns left out). */
  columns: string;
  /** The template holds rows for it (the schema inserted some). */
  seeded: boolean;
  /** How many rows the schema left in it. */
  rows: number;
  /**
   * For a seeded table with a primary key: the join condition matching a row of the worker's table (`a`) with the
   * identical row of the template's (`b`), every column compared exactly (strings byte by byte). Undefined: the
   * table's rows are rewritten at every reset.
   */
  same?: string;
  /** AUTO_INCREMENT right after the schema; null for a table without one. */
  autoIncrement: number | null;
  /** AUTO_INCREMENT after TRUNCATE and putting the schema's rows back (InnoDB: max id + 1, or 1). */
  afterReseed: number | null;
}

export interface MysqlResetPlan {
  kind: 'mysql';
  /** The database that holds the schema's rows. */
  template: string;
  tables: MysqlTablePlan[];
}

export function quoteMysqlIdent(name: string): string {
  return `\`${name.replace(/`/g, '``')}\``;
}

async function rows(conn: MysqlConnection, sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>> {
  const [result] = await conn.query(sql, params);
  return Array.isArray(result) ? (result as Array<Record<string, unknown>>) : [];
}

/** Connects (multi-statement, for one-round-trip scripts); a refused connection becomes DATABASE_UNREACHABLE. */
export async function connectMysql(url: string): Promise<MysqlConnection> {
  const mysql = loadMysql2();
  let conn: MysqlConnection;
  try {
    conn = await mysql.createConnection({ uri: url, multipleStatements: true });
  } catch (err) {
    throw new DatabaseUnreachableError(redactUrl(url), (err as Error)?.message ?? String(err), err);
  }
  conn.on('error', () => {});
  // MySQL 8 caches information_schema.TABLES.AUTO_INCREMENT for a day by default; MariaDB has no such variable.
  await conn.query('SET SESSION information_schema_stats_expiry = 0').catch(() => {});
  return conn;
}

/** The maintenance URL: the server without a database (the workers' databases are created next to the URL's). */
export function mysqlAdminUrl(url: string): string {
  return url;
}

async function admin<T>(url: string, sql: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    throw new DatabaseProvisionError(redactUrl(url), sql, (err as Error)?.message ?? String(err), err);
  }
}

export async function listMysqlDatabases(conn: MysqlConnection, url: string, prefix: string): Promise<string[]> {
  const sql = 'SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE LEFT(SCHEMA_NAME, ?) = ? ORDER BY 1';
  return admin(url, sql, async () => (await rows(conn, sql, [prefix.length, prefix])).map((r) => String(r.name)));
}

/** Creates a database with the character set and collation of the URL's database (if it names one). */
export async function createMysqlDatabase(conn: MysqlConnection, url: string, name: string): Promise<void> {
  let charset = '';
  const like = databaseOf(url);
  if (like) {
    const [found] = await rows(conn, 'SELECT DEFAULT_CHARACTER_SET_NAME AS cs, DEFAULT_COLLATION_NAME AS co FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = ?', [like]);
    if (found) charset = ` CHARACTER SET ${String(found.cs)} COLLATE ${String(found.co)}`;
  }
  const sql = `CREATE DATABASE ${quoteMysqlIdent(name)}${charset}`;
  await admin(url, sql, () => conn.query(sql));
}

export async function dropMysqlDatabase(conn: MysqlConnection, url: string, name: string): Promise<void> {
  const sql = `DROP DATABASE IF EXISTS ${quoteMysqlIdent(name)}`;
  await admin(url, sql, () => conn.query(sql));
}

export function mysqlWorkerUrl(url: string, name: string): string {
  return withDatabase(url, name);
}

const GENERATED = /\b(VIRTUAL|STORED|PERSISTENT) GENERATED\b/i;
/** Types compared byte by byte (BINARY): a case-insensitive collation would call 'Free' and 'free' equal. */
const TEXTUAL = /^(char|varchar|tinytext|text|mediumtext|longtext|enum|set|json|binary|varbinary|tinyblob|blob|mediumblob|longblob)$/i;

/** Reads the reset plan from the template database (right after the schema). */
export async function readMysqlPlan(conn: MysqlConnection, template: string): Promise<MysqlResetPlan> {
  const tables = await rows(
    conn,
    "SELECT TABLE_NAME AS t, AUTO_INCREMENT AS ai FROM information_schema.TABLES WHERE TABLE_SCHEMA = ? AND TABLE_TYPE = 'BASE TABLE' ORDER BY TABLE_NAME",
    [template],
  );
  const columns = await rows(
    conn,
    'SELECT TABLE_NAME AS t, COLUMN_NAME AS c, EXTRA AS extra, DATA_TYPE AS type, COLUMN_KEY AS k FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? ORDER BY TABLE_NAME, ORDINAL_POSITION',
    [template],
  );
  const plan: MysqlResetPlan = { kind: 'mysql', template, tables: [] };
  for (const t of tables) {
    const table = String(t.t);
    const own = columns.filter((c) => String(c.t) === table);
    const autoColumn = own.find((c) => /auto_increment/i.test(String(c.extra ?? '')));
    const source = `${quoteMysqlIdent(template)}.${quoteMysqlIdent(table)}`;
    const [stats] = await rows(
      conn,
      `SELECT COUNT(*) AS n${autoColumn ? `, MAX(${quoteMysqlIdent(String(autoColumn.c))}) AS top` : ''} FROM ${source}`,
    );
    const rowCount = Number(stats?.n ?? 0);
    const seeded = rowCount > 0;
    const autoIncrement = t.ai === null || t.ai === undefined ? null : Number(t.ai);
    const stored = own.filter((c) => !GENERATED.test(String(c.extra ?? '')));
    const hasPrimaryKey = own.some((c) => String(c.k ?? '') === 'PRI');
    const same =
      seeded && hasPrimaryKey
        ? stored
            .map((c) => {
              const col = quoteMysqlIdent(String(c.c));
              return TEXTUAL.test(String(c.type ?? '')) ? `BINARY a.${col} <=> BINARY b.${col}` : `a.${col} <=> b.${col}`;
            })
            .join(' AND ')
        : undefined;
    plan.tables.push({
      name: quoteMysqlIdent(table),
      table,
      columns: stored.map((c) => quoteMysqlIdent(String(c.c))).join(', '),
      seeded,
      rows: rowCount,
      ...(same !== undefined && { same }),
      autoIncrement,
      afterReseed: autoIncrement === null ? null : seeded && stats?.top !== null && stats?.top !== undefined ? Number(stats.top) + 1 : 1,
    });
  }
  return plan;
}

const NONE = "SELECT '' AS t FROM DUAL WHERE FALSE";

/**
 * The read of the `delete` strategy, one round trip: AUTO_INCREMENT counters, which unseeded tables hold rows,
 * and which seeded tables differ from the template (row count, then an exact join on every column).
 */
export function mysqlChangesSql(plan: MysqlResetPlan): string {
  const template = quoteMysqlIdent(plan.template);
  const unseeded = plan.tables.filter((t) => !t.seeded);
  const compared = plan.tables.filter((t) => t.seeded && t.same !== undefined);
  return [
    "SELECT TABLE_NAME AS t, AUTO_INCREMENT AS ai FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_TYPE = 'BASE TABLE'",
    unseeded.length > 0 ? unseeded.map((t) => `SELECT ${mysqlString(t.table)} AS t FROM DUAL WHERE EXISTS (SELECT 1 FROM ${t.name})`).join(' UNION ALL ') : NONE,
    compared.length > 0
      ? compared
          .map(
            (t) =>
              `SELECT ${mysqlString(t.table)} AS t FROM DUAL WHERE (SELECT COUNT(*) FROM ${t.name}) <> ${t.rows} ` +
              `OR (SELECT COUNT(*) FROM ${t.name} a JOIN ${template}.${t.name} b ON ${t.same}) <> ${t.rows}`,
          )
          .join(' UNION ALL ')
      : NONE,
  ].join(';\n');
}

function mysqlString(text: string): string {
  return `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'`;
}

export interface MysqlChanges {
  /** Table name -> its AUTO_INCREMENT now. */
  autoIncrement: Map<string, number | null>;
  /** Unseeded tables that hold rows. */
  nonEmpty: Set<string>;
  /** Seeded tables whose rows differ from the schema's. */
  changedSeeds: Set<string>;
}

/** Parses the two result sets of {@link mysqlChangesSql}. */
export function parseMysqlChanges(result: unknown): MysqlChanges {
  const [counters, filled, changed] = result as Array<Array<Record<string, unknown>>>;
  return {
    autoIncrement: new Map(counters!.map((r) => [String(r.t), r.ai === null || r.ai === undefined ? null : Number(r.ai)])),
    nonEmpty: new Set(filled!.map((r) => String(r.t))),
    changedSeeds: new Set(changed!.map((r) => String(r.t))),
  };
}

/**
 * How long the reset waits for a lock another connection holds (seconds, the server's minimum), before
 * DATABASE_RESET_FAILED: well inside Jest's default 5 s hook timeout.
 */
export const MYSQL_LOCK_TIMEOUT_S = 1;

/**
 * The reset script. With `changes` (strategy `delete`), only what changed is touched; without, every table is
 * truncated. Returns undefined when there is nothing to do.
 */
export function mysqlResetSql(plan: MysqlResetPlan, changes?: MysqlChanges): string | undefined {
  const truncate: MysqlTablePlan[] = [];
  const remove: MysqlTablePlan[] = [];
  for (const t of plan.tables) {
    if (!changes) {
      truncate.push(t);
      continue;
    }
    const moved = t.autoIncrement !== null && changes.autoIncrement.get(t.table) !== t.autoIncrement;
    if (moved) truncate.push(t);
    else if (t.seeded ? t.same === undefined || changes.changedSeeds.has(t.table) : changes.nonEmpty.has(t.table)) remove.push(t);
  }
  if (truncate.length === 0 && remove.length === 0) return undefined;
  const template = quoteMysqlIdent(plan.template);
  const out = ['SET FOREIGN_KEY_CHECKS = 0'];
  for (const t of truncate) out.push(`TRUNCATE TABLE ${t.name}`);
  const reseed = [...truncate, ...remove].filter((t) => t.seeded);
  if (remove.length > 0 || reseed.length > 0) {
    out.push('START TRANSACTION');
    for (const t of remove) out.push(`DELETE FROM ${t.name}`);
    for (const t of reseed) out.push(`INSERT INTO ${t.name} (${t.columns}) SELECT ${t.columns} FROM ${template}.${t.name}`);
    out.push('COMMIT');
  }
  for (const t of truncate) {
    if (t.autoIncrement !== null && t.autoIncrement !== t.afterReseed) out.push(`ALTER TABLE ${t.name} AUTO_INCREMENT = ${t.autoIncrement}`);
  }
  out.push('SET FOREIGN_KEY_CHECKS = 1');
  return out.join(';\n') + ';';
}

/** Session settings of the reset connection: fail after a few seconds on a lock instead of waiting for ever. */
export const MYSQL_RESET_SESSION_SQL = `SET SESSION lock_wait_timeout = ${MYSQL_LOCK_TIMEOUT_S}; SET SESSION innodb_lock_wait_timeout = ${MYSQL_LOCK_TIMEOUT_S}`;

/** Other connections on this database (and whether each is inside a transaction), for the message of a reset that timed out on a lock. */
export async function mysqlBlockers(conn: MysqlConnection): Promise<string> {
  try {
    const found = await rows(
      conn,
      'SELECT p.ID AS id, p.COMMAND AS command, p.TIME AS time, LEFT(COALESCE(p.INFO, \'\'), 120) AS info, t.trx_started AS since ' +
        'FROM information_schema.PROCESSLIST p LEFT JOIN information_schema.INNODB_TRX t ON t.trx_mysql_thread_id = p.ID ' +
        'WHERE p.DB = DATABASE() AND p.ID <> CONNECTION_ID() ORDER BY p.ID',
    );
    return found
      .map(
        (r) =>
          `  connection ${String(r.id)} (${String(r.command)} for ${String(r.time)} s${r.since ? ', idle in transaction' : ''})${r.info ? `: ${String(r.info)}` : ''}`,
      )
      .join('\n');
  } catch {
    return '';
  }
}
