/**
 * What a step may read and write, known before it runs: the basis of the partial-order reduction. Two steps of
 * different actors are independent when running them in either order leaves Redis and the database the same and
 * each sees the same replies; the reduced search runs only one order of such a pair.
 *
 * Conservative by construction: anything not recognised is dependent with everything of its store.
 * - Redis: the keys each command reads and writes (scripts: their declared keys, all written). A command without
 *   known keys that can see the keyspace (KEYS, SCAN, FLUSHALL, RANDOMKEY, DBSIZE, a script with no keys, ...) is
 *   dependent with every Redis step.
 * - SQL: per table, and per row where both statements fix the same column to a parameter and neither writes that
 *   column. Reads commute with reads. Transaction control, locking reads, DDL, statements whose tables are not
 *   found, and multi-table writes are dependent with every SQL step.
 * - Timers: a virtual timer firing is independent of other actors' steps (its callback's I/O are steps of their own).
 *   A timeout (virtualTime.timeoutFromMs) is dependent with every step: it may fire only when no other step can,
 *   so any step of another actor can enable it, and firing it can disable the others.
 * - Steps of one actor are always dependent (program order).
 * Redis and the database are separate stores: a Redis step and an SQL step are independent.
 */
import { keysOf } from '../instrument/redisSteps';
import type { StepInfo } from '../step';

export type Footprint =
  | { readonly store: 'redis'; readonly global: boolean; readonly reads: readonly string[]; readonly writes: readonly string[] }
  | { readonly store: 'sql'; readonly global: boolean; readonly write: boolean; readonly tables: readonly string[]; readonly row?: RowSelector; readonly sets: readonly string[] }
  | { readonly store: 'timer'; readonly timeout: boolean };

/** `WHERE column = <parameter>`: the statement touches only rows whose `column` holds `value`. */
export interface RowSelector {
  readonly table: string;
  readonly column: string;
  readonly value: string;
}

/** Keyless commands that cannot see or change the keyspace. */
const KEYLESS_HARMLESS = new Set(['PING', 'ECHO', 'TIME', 'CLIENT', 'HELLO', 'AUTH', 'SELECT', 'SCRIPT', 'READONLY', 'READWRITE', 'ASKING', 'QUIT', 'RESET', 'MULTI', 'EXEC', 'DISCARD', 'UNWATCH', 'COMMAND', 'LOLWUT']);

const cache = new WeakMap<StepInfo, Footprint>();

export function footprintOf(info: StepInfo): Footprint {
  let f = cache.get(info);
  if (!f) {
    f = info.kind === 'timer' ? { store: 'timer', timeout: info.timeout === true } : info.kind === 'redis' ? redisFootprint(info) : sqlFootprint(info.sql ?? info.command, info.args);
    cache.set(info, f);
  }
  return f;
}

function redisFootprint(info: StepInfo): Footprint {
  const commands: ReadonlyArray<readonly [string, ...unknown[]]> = info.batch ?? [[info.command, ...info.args]];
  return { store: 'redis', global: commands.some(([name, ...args]) => seesWholeKeyspace(String(name), args)), reads: info.keys, writes: info.writes };
}

/** A command without known keys that can see or change the keyspace (KEYS, SCAN, FLUSHALL, EVAL with 0 keys, ...). */
function seesWholeKeyspace(name: string, args: readonly unknown[]): boolean {
  if (KEYLESS_HARMLESS.has(name.toUpperCase())) return false;
  const { keys, known } = keysOf(name, args);
  return !known || keys.length === 0;
}

const IDENT = String.raw`(?:"(?:[^"]|"")+"|\x60[^\x60]+\x60|[A-Za-z_][A-Za-z0-9_$]*)`;
const QUALIFIED = String.raw`${IDENT}(?:\s*\.\s*${IDENT})?`;
const TABLE_AFTER = new RegExp(String.raw`\b(?:FROM|JOIN|INTO|UPDATE|TABLE)\s+(?:ONLY\s+)?(${QUALIFIED})`, 'gi');
const PARAM = String.raw`(?:\$(\d+)|\?)`;

function unquote(name: string): string {
  const last = name.split('.').pop()!.trim();
  if (last.startsWith('"')) return last.slice(1, -1).replace(/""/g, '"');
  if (last.startsWith('`')) return last.slice(1, -1);
  return last.toLowerCase();
}

/** Comments and string literals out, so keywords inside them are not read as structure. */
function skeleton(sql: string): string {
  return sql
    .replace(/--[^\n]*/g, ' ')
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/'(?:[^']|'')*'/g, "''");
}

export function sqlFootprint(sqlText: string, params: readonly unknown[]): Footprint {
  const sql = skeleton(sqlText).trim();
  const first = /^\(?\s*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase() ?? '';
  const everything = { store: 'sql', global: true, write: true, tables: [], sets: [] } as const;
  const upper = sql.toUpperCase();
  let write: boolean;
  if (first === 'SELECT' || first === 'WITH' || first === 'VALUES' || first === 'SHOW' || first === 'TABLE') {
    // Locking reads order against writes (and each other); a CTE may hide a write.
    const locking = /\bFOR\s+(?:UPDATE|SHARE|NO\s+KEY\s+UPDATE|KEY\s+SHARE)\b|\bLOCK\s+IN\s+SHARE\s+MODE\b/.test(upper);
    const hiddenWrite = first === 'WITH' && /\b(?:INSERT|UPDATE|DELETE|MERGE)\b/.test(upper);
    if (hiddenWrite) return everything;
    write = locking;
  } else if (first === 'INSERT' || first === 'UPDATE' || first === 'DELETE' || first === 'REPLACE') {
    write = true;
  } else {
    // BEGIN, COMMIT, ROLLBACK, SAVEPOINT, SET, LOCK, DDL, CALL, ...: ordered against every statement.
    return everything;
  }
  const tables = [...new Set([...sql.matchAll(TABLE_AFTER)].map((m) => unquote(m[1]!)))];
  if (tables.length === 0) return everything;
  // A write's effects outside its table (subqueries aside) are not seen: keep writes to one table only.
  if (write && tables.length > 1) return everything;
  const sets = first === 'UPDATE' ? setColumns(sql) : first === 'SELECT' || first === 'DELETE' ? [] : ['*'];
  const row = tables.length === 1 && (first === 'SELECT' || first === 'UPDATE' || first === 'DELETE') ? rowSelector(sql, tables[0]!, params) : undefined;
  return { store: 'sql', global: false, write, tables, sets, ...(row ? { row } : {}) };
}

function setColumns(sql: string): string[] {
  const m = /\bSET\b([\s\S]*?)(?:\bWHERE\b|\bRETURNING\b|\bFROM\b|$)/i.exec(sql);
  if (!m) return ['*'];
  const cols = [...m[1]!.matchAll(new RegExp(String.raw`(?:^|,)\s*(${QUALIFIED})\s*=`, 'g'))].map((c) => unquote(c[1]!));
  return cols.length ? cols : ['*'];
}

/** `WHERE col = $n` as a top-level conjunct (no OR anywhere in the WHERE clause, no subquery). */
function rowSelector(sql: string, table: string, params: readonly unknown[]): RowSelector | undefined {
  const where = /\bWHERE\b([\s\S]*?)(?:\bRETURNING\b|\bORDER\s+BY\b|\bGROUP\s+BY\b|\bLIMIT\b|\bFOR\b|$)/i.exec(sql)?.[1];
  if (!where || /\bOR\b|\bSELECT\b|\(/i.test(where)) return undefined;
  const m = new RegExp(String.raw`(?:^|\bAND\b)\s*(${QUALIFIED})\s*=\s*${PARAM}\s*(?=$|\bAND\b)`, 'i').exec(where.trim());
  if (!m) return undefined;
  // `$n` names its parameter; `?` placeholders count from the start of the statement.
  const index = m[2] !== undefined ? Number(m[2]) - 1 : (sql.slice(0, sql.indexOf(where) + where.indexOf(m[0]) + m[0].length).match(/\?/g) ?? []).length - 1;
  if (index < 0 || index >= params.length) return undefined;
  const value = params[index];
  if (value === null || value === undefined || typeof value === 'object') return undefined;
  return { table, column: unquote(m[1]!), value: `${typeof value}:${String(value)}` };
}

const intersects = (a: readonly string[], b: readonly string[]) => a.some((x) => b.includes(x));

/** True when the two steps (of different actors) may not commute. */
export function dependent(a: Footprint, b: Footprint): boolean {
  if (a.store === 'timer' || b.store === 'timer') return (a.store === 'timer' && a.timeout) || (b.store === 'timer' && b.timeout);
  if (a.store !== b.store) return false;
  if (a.store === 'redis' && b.store === 'redis') {
    if (a.global || b.global) return true;
    return intersects(a.writes, b.reads) || intersects(b.writes, a.reads);
  }
  if (a.store === 'sql' && b.store === 'sql') {
    if (a.global || b.global) return true;
    if (!a.write && !b.write) return false;
    if (!intersects(a.tables, b.tables)) return false;
    // Same table: independent only when both fix the same column to different values and neither moves rows
    // between values by writing that column.
    if (a.row && b.row && a.row.table === b.row.table && a.row.column === b.row.column && a.row.value !== b.row.value) {
      const moves = (f: typeof a) => f.sets.includes('*') || f.sets.includes(a.row!.column);
      return moves(a) || moves(b);
    }
    return true;
  }
  return true;
}
