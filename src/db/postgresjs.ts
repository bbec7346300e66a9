/**
 * postgres.js (`postgres(url)`) instances as database handles. The instance is a function (a tagged template), and
 * before this it passed for a `(sql, params) => rows` query function: `sql('SELECT ...', [1])` is postgres.js'
 * identifier / helper form, not a query. It is recognised by its API and runs statements with `sql.unsafe(text,
 * params)`, which takes `$1` placeholders as they are.
 */
import type { Row } from './types';

export interface PostgresJsLike {
  (strings: TemplateStringsArray | string, ...args: unknown[]): unknown;
  unsafe(sql: string, params?: unknown[], options?: object): PromiseLike<unknown>;
  begin(...args: unknown[]): Promise<unknown>;
  reserve(): Promise<PostgresJsLike & { release(): void }>;
  options: object;
}

export function isPostgresJs(value: unknown): value is PostgresJsLike {
  if (typeof value !== 'function') return false;
  const v = value as Partial<PostgresJsLike>;
  return typeof v.unsafe === 'function' && typeof v.begin === 'function' && typeof v.reserve === 'function' && !!v.options && typeof v.options === 'object';
}

export function postgresJsQuery(sql: PostgresJsLike): (text: string, params?: readonly unknown[]) => Promise<Row[]> {
  return async (text, params = []) => {
    const result = await sql.unsafe(text, [...params]);
    return Array.isArray(result) ? (result as Row[]).map((row) => ({ ...row })) : [];
  };
}
