import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { SchemaError } from '../errors';
import { redactUrl, withDatabase, type RealDatabaseKind } from './databaseUrl';
import type { MysqlConnection, PgClient } from './drivers';
import {
  connectMysql,
  createMysqlDatabase,
  dropMysqlDatabase,
  listMysqlDatabases,
  readMysqlPlan,
  quoteMysqlIdent,
} from './mysqlEngine';
import {
  connectPostgres,
  createPostgresDatabase,
  dropPostgresDatabase,
  listPostgresDatabases,
  postgresAdminUrl,
  readPostgresPlan,
} from './postgresEngine';
import { createMysqlHandle, createPostgresHandle, type RealDatabaseState, type ResetPlan, type ResetStrategy } from './realTestDb';
import { applySchema, schemaModuleLoader, splitMysqlStatements, type ModuleLoader } from './schemaApply';
import { splitSqlStatements } from './sqlStatements';

/**
 * Per-worker databases on a real server (`database.kind: 'postgres' | 'mysql'`), created in globalSetup and
 * dropped in globalTeardown.
 *
 * Names: `jcc_<host>_<pid>_<role>`, where `<host>` is 6 hex digits of a hash of this machine's host name,
 * `<pid>` the Jest process and `<role>` `t` (template) or `w<n>` (worker n), prefixed `r<k>` for the k-th
 * provisioning in the same process (watch mode re-runs, tests). A later run on the same machine drops
 * the databases of a Jest process that no longer exists (a killed run); nothing without this prefix, and nothing
 * of another machine sharing the server, is ever touched.
 */

export interface RealDatabaseOptions {
  kind: RealDatabaseKind;
  url: string;
  schema: string[];
  reset: ResetStrategy;
}

export interface ProvisionedDatabases {
  state: RealDatabaseState;
  /** MySQL: the template database, the source of the schema's rows for the reset (dropped with the others). */
  template: string | undefined;
  /** Drops every database this run created, and the plan. Safe to call twice. */
  drop(): Promise<void>;
}

export interface ProvisionContext {
  /** The project config Jest passed to globalSetup: schema modules go through its transform. */
  projectConfig?: unknown;
  /** The process whose id goes into the names (default: this one, the Jest parent process). */
  pid?: number;
  /** Whether a process is alive (tests replace it). */
  isAlive?: (pid: number) => boolean;
  /** Machine tag (tests replace it). */
  host?: string;
  /**
   * Told each database's name (and the admin URL it lives on) as soon as it exists, before its schema is
   * applied: the preset hands it to the watchdog, which drops it if Jest ends without its teardown.
   */
  onCreate?: (name: string, adminUrl: string) => void;
}

/** 6 hex digits naming this machine, so runs on machines sharing a database server never touch each other's. */
export function hostTag(name = hostname()): string {
  return createHash('sha1').update(name).digest('hex').slice(0, 6);
}

export function databasePrefix(host = hostTag()): string {
  return `jcc_${host}_`;
}

export function databaseName(pid: number, role: string, host = hostTag()): string {
  return `${databasePrefix(host)}${pid}_${role}`;
}

/** The parts of one of our names, or undefined for any other name. */
export function parseDatabaseName(name: string): { host: string; pid: number; role: string } | undefined {
  const m = /^jcc_([0-9a-f]{6})_([1-9][0-9]*)_((?:r[1-9][0-9]*)?(?:t|w[1-9][0-9]*))$/.exec(name);
  return m ? { host: m[1]!, pid: Number(m[2]), role: m[3]! } : undefined;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

type Admin = { kind: 'postgres'; client: PgClient; url: string } | { kind: 'mysql'; client: MysqlConnection; url: string };

async function connectAdmin(kind: RealDatabaseKind, url: string): Promise<Admin> {
  if (kind === 'postgres') {
    const adminUrl = postgresAdminUrl(url);
    return { kind, client: await connectPostgres(adminUrl), url: adminUrl };
  }
  const conn = await connectMysql(url);
  // DROP DATABASE waits for metadata locks of open transactions: don't wait a year (the server default).
  await conn.query('SET SESSION lock_wait_timeout = 10');
  return { kind, client: conn, url };
}

function list(admin: Admin, prefix: string): Promise<string[]> {
  return admin.kind === 'postgres' ? listPostgresDatabases(admin.client, admin.url, prefix) : listMysqlDatabases(admin.client, admin.url, prefix);
}

async function drop(admin: Admin, name: string): Promise<void> {
  if (admin.kind === 'postgres') return dropPostgresDatabase(admin.client, admin.url, name);
  // Like PostgreSQL's DROP ... WITH (FORCE): end the connections still using it (a pool the tests never ended).
  const [users] = await admin.client.query('SELECT ID AS id FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID()', [name]);
  for (const { id } of users as Array<{ id: number }>) await admin.client.query(`KILL ${Number(id)}`).catch(() => {});
  return dropMysqlDatabase(admin.client, admin.url, name);
}

async function end(admin: Admin): Promise<void> {
  await admin.client.end().catch(() => {});
}

// Databases a provisioning in this process created and has not dropped yet: never leftovers, even though they
// carry this process's id. Shared through the process object (Jest may load this module more than once).
const ACTIVE = Symbol.for('jest-cache-consistency.activeDatabases');
const active: Set<string> = ((process as unknown as { [ACTIVE]?: Set<string> })[ACTIVE] ??= new Set<string>());
const RUNS = Symbol.for('jest-cache-consistency.provisionings');
/** 1 for this process's first provisioning, then 2, 3, ... */
function nextRun(): number {
  const slot = process as unknown as { [RUNS]?: number };
  slot[RUNS] = (slot[RUNS] ?? 0) + 1;
  return slot[RUNS];
}

/**
 * Drops the databases (and plan folders) a Jest run on this machine left behind when it was killed: ours by
 * prefix, whose process is gone, or this very process's from a run whose teardown never ran (not one that is
 * still active). One that cannot be dropped (another user's) is left alone. Returns the names dropped.
 */
export async function dropLeftoverDatabases(kind: RealDatabaseKind, url: string, context: ProvisionContext = {}): Promise<string[]> {
  const admin = await connectAdmin(kind, url);
  try {
    return await dropLeftovers(admin, context);
  } finally {
    await end(admin);
  }
}

async function dropLeftovers(admin: Admin, context: ProvisionContext): Promise<string[]> {
  const host = context.host ?? hostTag();
  const self = context.pid ?? process.pid;
  const alive = context.isAlive ?? processAlive;
  const stale = (await list(admin, databasePrefix(host))).filter((name) => {
    const parsed = parseDatabaseName(name);
    return parsed !== undefined && parsed.host === host && !active.has(name) && (parsed.pid === self || !alive(parsed.pid));
  });
  const dropped: string[] = [];
  // One that cannot be dropped (created by another user of the server) is not ours after all: left alone.
  await dropEach(admin.kind, admin.url, stale, (name) => dropped.push(name)).catch(() => {});
  dropped.sort();
  // Plan folders of runs that are gone (always this machine's real processes, whatever the context says).
  for (const entry of safeReaddir(tmpdir())) {
    const m = /^jcc-db-([0-9]+)-/.exec(entry);
    if (m && Number(m[1]) !== process.pid && !processAlive(Number(m[1]))) rmSync(join(tmpdir(), entry), { recursive: true, force: true });
  }
  return dropped;
}

function safeReaddir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function notAvailable(): Promise<void> {
  return Promise.reject(new SchemaError('(schema module)', 'reset() is not available while the schema is being applied'));
}

/** Applies the schema to the PostgreSQL database `name`: `.sql` statements one by one, modules in between. */
export async function applyPostgresSchema(url: string, name: string, schema: string[], load: ModuleLoader): Promise<void> {
  const client = await connectPostgres(url);
  const handle = createPostgresHandle(url, name, notAvailable);
  try {
    await applySchema(
      schema,
      {
        exec: async (sql) => {
          await client.query(sql);
        },
        handle,
        split: splitSqlStatements,
      },
      load,
    );
  } finally {
    await handle.close().catch(() => {});
    await client.end().catch(() => {});
  }
}

/** Applies the schema to the MySQL database `name` (DELIMITER lines honoured). */
export async function applyMysqlSchema(url: string, name: string, schema: string[], load: ModuleLoader): Promise<void> {
  const conn = await connectMysql(url);
  const handle = createMysqlHandle(url, name, notAvailable);
  try {
    await applySchema(
      schema,
      {
        exec: async (sql) => {
          await conn.query(sql);
        },
        handle,
        split: splitMysqlStatements,
      },
      load,
    );
  } finally {
    await handle.close().catch(() => {});
    await conn.end().catch(() => {});
  }
}

/** Drops the databases `names` (ours, by exact name), ending the connections still using them. */
export async function dropDatabases(kind: RealDatabaseKind, url: string, names: readonly string[]): Promise<void> {
  await dropEach(kind, url, names, () => {});
}

/** Runs `task` for every item at once and waits for all of them; then throws the first failure, if any. */
async function settleAll<T>(items: readonly T[], task: (item: T) => Promise<unknown>): Promise<void> {
  const results = await Promise.allSettled(items.map(task));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Drops `names` at once, each from its own connection (PostgreSQL coalesces the checkpoints DROP DATABASE waits for). */
async function dropEach(kind: RealDatabaseKind, url: string, names: readonly string[], dropped: (name: string) => void): Promise<void> {
  await settleAll(names, async (name) => {
    const own = await connectAdmin(kind, url);
    try {
      await drop(own, name);
      dropped(name);
    } finally {
      await end(own);
    }
  });
}

/**
 * Creates one database per Jest worker with `options.schema` applied, first dropping the leftovers of killed
 * runs. Every worker's database is created and gets the schema at the same time, each over its own
 * connections: measured faster than applying the schema once to a template and cloning it with
 * `CREATE DATABASE ... TEMPLATE` (bench/db-reset.js; CREATE and DROP DATABASE each cost a copy of the catalogs
 * or a checkpoint, which dwarfs applying a schema). The reset plan is read from the first worker's database
 * before any test ran (MySQL: from a template database kept until teardown, the source of the schema's rows
 * the reset writes back) and written to a private temporary file.
 */
export async function provisionDatabases(options: RealDatabaseOptions, workers: number, context: ProvisionContext = {}): Promise<ProvisionedDatabases> {
  const pid = context.pid ?? process.pid;
  const host = context.host ?? hostTag();
  const load = await schemaModuleLoader(context.projectConfig);
  const admin = await connectAdmin(options.kind, options.url);
  const adminUrl = admin.url;
  const created: string[] = [];
  const run = nextRun();
  const prefix = run > 1 ? `r${run}` : '';
  const template = options.kind === 'mysql' ? databaseName(pid, `${prefix}t`, host) : undefined;
  const names = Array.from({ length: workers }, (_, i) => databaseName(pid, `${prefix}w${i + 1}`, host));
  let dir: string | undefined;

  const dropAll = async (): Promise<void> => {
    let failure: unknown;
    await dropEach(options.kind, adminUrl, [...created], (name) => {
      active.delete(name);
      created.splice(created.indexOf(name), 1);
    }).catch((err: unknown) => (failure = err));
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
    if (failure !== undefined) throw failure;
  };

  const createAndApply = async (name: string): Promise<void> => {
    const own = await connectAdmin(options.kind, adminUrl);
    try {
      if (own.kind === 'postgres') await createPostgresDatabase(own.client, adminUrl, name);
      else await createMysqlDatabase(own.client, adminUrl, name);
      created.push(name);
      active.add(name);
      context.onCreate?.(name, adminUrl);
    } finally {
      await end(own);
    }
    const url = withDatabase(adminUrl, name);
    if (options.kind === 'postgres') await applyPostgresSchema(url, name, options.schema, load);
    else await applyMysqlSchema(url, name, options.schema, load);
  };

  try {
    await dropLeftovers(admin, { ...context, pid, host });
    await settleAll(template ? [template, ...names] : names, createAndApply);
    let plan: ResetPlan;
    if (admin.kind === 'postgres') {
      const reader = await connectPostgres(withDatabase(adminUrl, names[0]!));
      try {
        plan = await readPostgresPlan(reader);
      } finally {
        await reader.end().catch(() => {});
      }
    } else {
      plan = await readMysqlPlan(admin.client, template!);
    }
    dir = mkdtempSync(join(tmpdir(), `jcc-db-${pid}-`));
    const planFile = join(dir, 'plan.json');
    writeFileSync(planFile, JSON.stringify(plan));
    return {
      state: {
        kind: options.kind,
        urls: names.map((name) => withDatabase(adminUrl, name)),
        names,
        planFile,
        strategy: options.reset,
      },
      template,
      drop: dropAll,
    };
  } catch (err) {
    await dropAll().catch(() => {});
    throw err;
  } finally {
    await end(admin);
  }
}

/** For messages and the bench: the URL without its password. */
export { redactUrl, quoteMysqlIdent };
