/**
 * What the real-database tests use to look at the servers from outside the library: plain node-postgres and
 * mysql2 connections on the maintenance database, listing, creating and dropping databases by exact name.
 */
import { Client } from 'pg';
import { createConnection, type Connection } from 'mysql2/promise';

export interface Admin {
  /** Those of `names` that exist, in the given order. */
  existing(names: readonly string[]): Promise<string[]>;
  create(name: string): Promise<void>;
  drop(name: string): Promise<void>;
  /** Runs a statement on the maintenance database. */
  query(sql: string, params?: unknown[]): Promise<Array<Record<string, unknown>>>;
  close(): Promise<void>;
}

export async function adminFor(kind: 'postgres' | 'mysql', url: string): Promise<Admin> {
  if (kind === 'postgres') {
    const client = new Client({ connectionString: url });
    await client.connect();
    const query = async (sql: string, params?: unknown[]) => (await client.query(sql, params)).rows as Array<Record<string, unknown>>;
    return {
      query,
      async existing(names) {
        const rows = await query('SELECT datname FROM pg_database WHERE datname = ANY($1)', [names]);
        const found = new Set(rows.map((r) => String(r.datname)));
        return names.filter((n) => found.has(n));
      },
      create: async (name) => void (await query(`CREATE DATABASE "${name}"`)),
      drop: async (name) => void (await query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)),
      close: () => client.end(),
    };
  }
  const conn: Connection = await createConnection({ uri: url });
  const query = async (sql: string, params?: unknown[]) => (await conn.query(sql, params))[0] as Array<Record<string, unknown>>;
  return {
    query,
    async existing(names) {
      if (names.length === 0) return [];
      const rows = await query('SELECT SCHEMA_NAME AS name FROM information_schema.SCHEMATA WHERE SCHEMA_NAME IN (?)', [names]);
      const found = new Set(rows.map((r) => String(r.name)));
      return names.filter((n) => found.has(n));
    },
    create: async (name) => void (await query(`CREATE DATABASE \`${name}\``)),
    drop: async (name) => void (await query(`DROP DATABASE IF EXISTS \`${name}\``)),
    close: () => conn.end(),
  };
}
