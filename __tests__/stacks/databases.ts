/**
 * A real database of the test file's own for the stack tests: PostgreSQL 127.0.0.1:5432 and MariaDB 127.0.0.1:3306
 * (the machine's; in CI the service containers). The name carries the stack and the Jest worker's pid, so parallel
 * workers and other test files never share it; `drop()` removes it. Creating one also drops those a killed run left
 * behind (their pid is no longer running).
 */
import { Pool } from 'pg';
import { createPool } from 'mysql2/promise';

export const POSTGRES_ADMIN_URL = process.env.STACKS_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const MYSQL_ADMIN_URL = process.env.STACKS_MYSQL_URL ?? 'mysql://root@127.0.0.1:3306/test';

export interface StackDatabase {
  readonly name: string;
  readonly url: string;
  drop(): Promise<void>;
}

const closed = new WeakMap<Pool, Promise<void>[]>();

/**
 * A node-postgres Pool whose `endPool` also waits until every connection it opened has closed: `pool.end()` resolves
 * once the clients are told to end, and dropping the database WITH (FORCE) right after would kill a connection still
 * closing (an unhandled "terminating connection due to administrator command").
 */
export function postgresPool(url: string, max = 6): Pool {
  const pool = new Pool({ connectionString: url, max });
  const ends: Promise<void>[] = [];
  closed.set(pool, ends);
  pool.on('connect', (client) => {
    ends.push(new Promise((resolve) => client.once('end', () => resolve())));
  });
  return pool;
}

/** Ends a pool made by postgresPool and waits for each of its connections to close. */
export async function endPool(pool: Pool | undefined): Promise<void> {
  if (!pool) return;
  if (!pool.ending) await pool.end(); // Kysely's destroy() may have ended it
  await Promise.all(closed.get(pool) ?? []);
}

function nameFor(stack: string): string {
  return `jcc_stack_${stack.replace(/[^a-z0-9]/gi, '_').toLowerCase()}_${process.pid}`;
}

/** The stack databases a killed run left: their name's pid is no longer a running process. */
function leftBehind(names: readonly string[]): string[] {
  return names.filter((n) => {
    const pid = Number(/_(\d+)$/.exec(n)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid) return false;
    try {
      process.kill(pid, 0);
      return false; // alive: another worker's
    } catch (error) {
      return (error as NodeJS.ErrnoException).code === 'ESRCH';
    }
  });
}

function withDatabase(url: string, name: string): string {
  const u = new URL(url);
  u.pathname = `/${name}`;
  return u.toString();
}

/** A PostgreSQL database `jcc_stack_<stack>_<pid>` with the `users` table. */
export async function postgresDatabase(stack: string): Promise<StackDatabase> {
  const name = nameFor(stack);
  const admin = new Pool({ connectionString: POSTGRES_ADMIN_URL, max: 1 });
  const existing = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE 'jcc\\_stack\\_%'`);
  for (const stale of leftBehind(existing.rows.map((r) => r.datname))) await admin.query(`DROP DATABASE IF EXISTS ${stale} WITH (FORCE)`);
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  const url = withDatabase(POSTGRES_ADMIN_URL, name);
  const schema = new Pool({ connectionString: url, max: 1 });
  await schema.query('CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL, email text)');
  await schema.end();
  return {
    name,
    url,
    async drop() {
      try {
        // Without FORCE: the server waits (up to 5 s) for connections still closing; one left open is a leak, reported.
        await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      } catch (error) {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        throw new Error(`the stack test left connections open on ${name}: ${(error as Error).message}`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** A MySQL/MariaDB database `jcc_stack_<stack>_<pid>` with the `users` table. */
export async function mysqlDatabase(stack: string): Promise<StackDatabase> {
  const name = nameFor(stack);
  const admin = createPool({ uri: MYSQL_ADMIN_URL, connectionLimit: 1 });
  const [existing] = await admin.query(`SHOW DATABASES LIKE 'jcc\\_stack\\_%'`);
  for (const stale of leftBehind((existing as Array<Record<string, string>>).map((r) => Object.values(r)[0]!))) await admin.query(`DROP DATABASE IF EXISTS ${stale}`);
  await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.query(`CREATE TABLE ${name}.users (id int PRIMARY KEY, name varchar(100) NOT NULL, email varchar(200))`);
  return {
    name,
    url: withDatabase(MYSQL_ADMIN_URL, name),
    async drop() {
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.end();
    },
  };
}
