import { readFileSync } from 'node:fs';
import { SchemaError } from '../errors';
import { splitSqlStatements, type SqlStatement } from './sqlStatements';

/** Loads a schema module in the Jest parent process (globalSetup), through the project's transform if any. */
export type ModuleLoader = (file: string) => Promise<unknown>;

/**
 * The loader for schema modules applied in globalSetup. With the project config Jest passed to globalSetup,
 * modules go through the project's transform the same way Jest loads a TypeScript globalSetup; without it,
 * plain `require` (JavaScript modules only).
 */
export async function schemaModuleLoader(projectConfig: unknown): Promise<ModuleLoader> {
  const config = projectConfig as { transform?: unknown; rootDir?: string } | undefined;
  if (config && Array.isArray(config.transform)) {
    try {
      const { createTranspilingRequire } = require('@jest/transform') as typeof import('@jest/transform');
      const transpilingRequire = await createTranspilingRequire(config as import('@jest/types').Config.ProjectConfig);
      return (file) => transpilingRequire(file);
    } catch (err) {
      // No @jest/transform next to this package: fall back to require (JavaScript schema modules still work).
      if ((err as NodeJS.ErrnoException | null)?.code !== 'MODULE_NOT_FOUND') throw err;
    }
  }
  return async (file) => require(file);
}

/**
 * Splits a MySQL script, honouring the mysql client's `DELIMITER` lines (needed for triggers and procedures,
 * whose bodies contain `;`). Without DELIMITER lines it is {@link splitSqlStatements}.
 */
export function splitMysqlStatements(script: string): SqlStatement[] {
  if (!/^\s*DELIMITER\s+\S+/im.test(script)) return splitSqlStatements(script);
  const out: SqlStatement[] = [];
  let delimiter = ';';
  let buffer: string[] = [];
  let startLine = 1;
  const lines = script.split('\n');
  const flush = () => {
    const text = buffer.join('\n');
    for (const s of splitSqlStatements(text)) out.push({ sql: s.sql, line: startLine + s.line - 1 });
    buffer = [];
  };
  lines.forEach((line, i) => {
    const directive = /^\s*DELIMITER\s+(\S+)\s*$/i.exec(line);
    if (directive) {
      if (delimiter === ';') flush();
      delimiter = directive[1]!;
      startLine = i + 2;
      return;
    }
    if (delimiter === ';') {
      if (buffer.length === 0) startLine = i + 1;
      buffer.push(line);
      return;
    }
    // A custom delimiter: statements end where a line ends with it.
    if (buffer.length === 0) startLine = i + 1;
    const trimmed = line.trimEnd();
    if (trimmed.endsWith(delimiter)) {
      buffer.push(trimmed.slice(0, -delimiter.length));
      const sql = buffer.join('\n').trim();
      if (sql) out.push({ sql, line: startLine });
      buffer = [];
    } else buffer.push(line);
  });
  if (delimiter === ';') flush();
  else if (buffer.join('').trim()) out.push({ sql: buffer.join('\n').trim(), line: startLine });
  return out;
}

export interface SchemaTarget<Handle> {
  /** Runs one statement of a `.sql` file. */
  exec(sql: string): Promise<void>;
  /** What a schema module receives. */
  handle: Handle;
  split(script: string): SqlStatement[];
}

/** Applies `schema` in order: `.sql` files statement by statement, modules by calling their default export. */
export async function applySchema<Handle>(schema: readonly string[], target: SchemaTarget<Handle>, load: ModuleLoader): Promise<void> {
  for (const file of schema) {
    if (/\.sql$/i.test(file)) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        throw new SchemaError(file, `cannot read the file (${(err as Error).message})`, undefined, undefined, err);
      }
      for (const { sql, line } of target.split(text)) {
        try {
          await target.exec(sql);
        } catch (err) {
          const first = ((err as Error)?.message ?? String(err)).split('\n')[0]!;
          throw new SchemaError(file, first, sql, line, err);
        }
      }
      continue;
    }
    let mod: unknown;
    try {
      mod = await load(file);
    } catch (err) {
      throw new SchemaError(file, `cannot load the module (${(err as Error)?.message ?? String(err)})`, undefined, undefined, err);
    }
    const fn = typeof mod === 'function' ? mod : (mod as { default?: unknown } | null)?.default;
    if (typeof fn !== 'function')
      throw new SchemaError(file, 'a schema module must export a function `(db) => void | Promise<void>` (default or module.exports)');
    try {
      await (fn as (db: Handle) => unknown)(target.handle);
    } catch (err) {
      if (err instanceof SchemaError) throw err;
      throw new SchemaError(file, `the schema module threw: ${(err as Error)?.message ?? String(err)}`, undefined, undefined, err);
    }
  }
}
