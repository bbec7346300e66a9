import { createRequire } from 'node:module';
import type { IMemoryDb } from 'pg-mem';

/**
 * pg-mem's node-postgres adapter (`mem.adapters.createPg()`), with parsed statements reused.
 *
 * pg-mem spends ~85% of a simple parameterised query parsing it (its nearley grammar): its adapter writes
 * the parameters into the SQL text (`$1` → `'42'`), so the text differs for every value and pg-mem's own
 * parse cache never hits. Here a statement is parsed once per SQL text (with its `$n` placeholders), and
 * each call hands pg-mem that syntax tree with the placeholders replaced by the very literals pg-mem's
 * adapter would have written: `'<String(value)>'` for strings, numbers, booleans and bigints, NULL for
 * null/undefined. Measured on a primary-key SELECT through the adapter: 0.375 → 0.096 ms (bench/consistency).
 *
 * Anything else takes pg-mem's own path unchanged: other parameter types (Buffer, Date, arrays, objects),
 * no parameters, several statements in one text, statements other than SELECT/INSERT/UPDATE/DELETE/WITH/
 * VALUES (DDL), text with `$n` in a comment or string literal (pg-mem's adapter replaces those too), text
 * that does not parse, query config objects with `types` or `rowMode`, the callback form, a database with
 * query interceptors or `query` event handlers (they receive the SQL text; a handler marked
 * {@link TAKES_STATEMENTS}, the race's guard of the embedded database, takes the syntax tree and asks
 * {@link statementText} for the text), a database of another copy of pg-mem. A statement that fails is run again on pg-mem's own path, so the error is pg-mem's own, naming the
 * failed SQL (a failed DML statement changed nothing: pg-mem rolls it back).
 */

type Ast = unknown;
type Literal = { type: 'string'; value: string } | { type: 'null' };
interface Parsed {
  ast: Ast;
  /** Highest `$n` used: pg-mem's path reports too few values itself. */
  maxParam: number;
}

interface PgQueryConfig {
  text?: unknown;
  values?: unknown;
  types?: unknown;
  rowMode?: unknown;
}

interface MemPgInstance {
  query(query: unknown, valuesOrCallback?: unknown, callback?: unknown): unknown;
  adaptResults(query: unknown, result: unknown): unknown;
}

type MemPgClass = new () => MemPgInstance;

const MAX_CACHED = 1000;

/**
 * Statements a failure leaves as they were (pg-mem rolls the statement back), so the retry on pg-mem's own
 * path is harmless. DDL is not among them: a failed ALTER TABLE can keep its first actions.
 */
const FAST_STATEMENTS = new Set(['select', 'insert', 'update', 'delete', 'with', 'with recursive', 'values', 'union', 'union all']);

/** The syntax-tree parser pg-mem itself uses (its own dependency, so the tree has the shape it expects). */
let parser: ((sql: string) => Ast[]) | undefined;
function parseSql(sql: string): Ast[] {
  parser ??= (createRequire(require.resolve('pg-mem'))('pgsql-ast-parser') as { parse(sql: string): Ast[] }).parse;
  return parser(sql);
}

/** The `$n` placeholders of a syntax tree, in any order. */
function placeholders(node: unknown, out: number[] = []): number[] {
  if (Array.isArray(node)) {
    for (const n of node) placeholders(n, out);
  } else if (node !== null && typeof node === 'object') {
    const o = node as Record<string, unknown>;
    if (o.type === 'parameter' && typeof o.name === 'string') out.push(Number(o.name.slice(1)) || 0);
    else for (const key in o) placeholders(o[key], out);
  }
  return out;
}

/** A copy of `node` with every `$n` replaced by `literals[n - 1]`; subtrees without placeholders are shared. */
function substitute(node: unknown, literals: Literal[]): unknown {
  if (Array.isArray(node)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < node.length; i++) {
      const next = substitute(node[i], literals);
      if (next !== node[i]) (copy ??= node.slice())[i] = next;
    }
    return copy ?? node;
  }
  if (node === null || typeof node !== 'object') return node;
  const o = node as Record<string, unknown>;
  if (o.type === 'parameter' && typeof o.name === 'string') return { ...literals[Number(o.name.slice(1)) - 1]! };
  let copy: Record<string, unknown> | undefined;
  for (const key in o) {
    const next = substitute(o[key], literals);
    if (next !== o[key]) (copy ??= { ...o })[key] = next;
  }
  return copy ?? o;
}

/** The literal pg-mem's adapter would write for `value` (`toLiteral`), or undefined where it is not a plain one. */
function literalOf(value: unknown): Literal | undefined {
  if (value === null || value === undefined) return { type: 'null' };
  switch (typeof value) {
    case 'string':
    case 'number':
    case 'boolean':
    case 'bigint':
      return { type: 'string', value: String(value) };
    default:
      return undefined;
  }
}

function sizeOf(listeners: unknown): number {
  if (listeners instanceof Set || listeners instanceof Map) return listeners.size;
  return Array.isArray(listeners) ? listeners.length : listeners === undefined ? 0 : 1;
}

let ourPrototype: object | undefined;
/** Whether `mem` was made by the copy of pg-mem this library resolves (and whose parser it uses). */
function fromOurPgMem(mem: IMemoryDb): boolean {
  ourPrototype ??= Object.getPrototypeOf((require('pg-mem') as typeof import('pg-mem')).newDb()) as object;
  return Object.getPrototypeOf(mem) === ourPrototype;
}

/**
 * Marks a pg-mem `query` event handler that takes a statement's syntax tree in place of its text, and asks
 * {@link statementText} for the text where it needs it (the race's guard of the embedded database, which only
 * reads it for an error message): while no other handler listens, calls keep the parsed-statement path.
 */
export const TAKES_STATEMENTS = Symbol.for('jest-cache-consistency.pgMem.takesStatements');

/** For each statement run on the parsed path: the SQL text pg-mem's own path would have run (worked out when asked). */
const statementTexts = new WeakMap<object, () => string>();

/**
 * The SQL text of a statement that a pg-mem `query` event carries as a syntax tree (this module ran it on the
 * parsed path): the text pg-mem's adapter would have run and the event carried, its parameters written in and a
 * `;` appended. Undefined for a tree this module did not run.
 */
export function statementText(statement: unknown): string | undefined {
  return statement !== null && typeof statement === 'object' ? statementTexts.get(statement)?.() : undefined;
}

/** Listeners of `event` that read the SQL text (all but those marked TAKES_STATEMENTS). */
function textListeners(listeners: unknown): number {
  if (listeners instanceof Set || Array.isArray(listeners)) {
    let n = 0;
    for (const h of listeners) if (!(typeof h === 'function' && (h as { [TAKES_STATEMENTS]?: unknown })[TAKES_STATEMENTS] === true)) n++;
    return n;
  }
  return sizeOf(listeners);
}

/** Whether calls on `mem` may skip the SQL text: nobody intercepts or listens to query texts. */
function textUnobserved(mem: IMemoryDb): boolean {
  // pg-mem internals, checked defensively: anything unexpected takes pg-mem's own path.
  const interceptors = (mem.public as unknown as { interceptors?: unknown }).interceptors;
  const handlers = (mem as unknown as { handlers?: unknown }).handlers;
  if (!(interceptors instanceof Set) || interceptors.size > 0 || !(handlers instanceof Map)) return false;
  return textListeners((handlers as Map<string, unknown>).get('query')) === 0 && sizeOf((handlers as Map<string, unknown>).get('query-failed')) === 0;
}

/**
 * The node-postgres compatible Pool/Client classes of `mem` (pg-mem's adapter) with parsed statements
 * reused. Results, errors and the async timing are those of pg-mem's adapter.
 */
export function createPgMemAdapter<P = unknown>(mem: IMemoryDb): { Pool: new () => P; Client: new () => P } {
  const stock = mem.adapters.createPg() as { Pool: MemPgClass; Client: MemPgClass };
  // A database of another copy of pg-mem (the application's own): its syntax trees may differ from the
  // parser this library would use, so it keeps its own adapter.
  if (!fromOurPgMem(mem)) return stock as unknown as { Pool: new () => P; Client: new () => P };
  const { Pool: MemPg } = stock;
  const cache = new Map<string, Parsed | null>();

  const parsed = (sql: string): Parsed | null => {
    let entry = cache.get(sql);
    if (entry === undefined) {
      try {
        const statements = parseSql(sql);
        const statement = statements.length === 1 ? (statements[0] as { type?: unknown }) : undefined;
        const params = statement ? placeholders(statement) : [];
        // pg-mem's adapter replaces every `$n` of the text, also in comments and string literals: where the
        // text holds more than the tree, only its path answers as it does.
        const inText = sql.match(/\$\d+/g)?.length ?? 0;
        entry =
          statement && FAST_STATEMENTS.has(String(statement.type)) && params.length === inText
            ? { ast: statement, maxParam: Math.max(0, ...params) }
            : null;
      } catch {
        entry = null; // pg-mem's path reports the syntax error
      }
      if (cache.size >= MAX_CACHED) cache.clear();
      cache.set(sql, entry);
    }
    return entry;
  };

  /** The statement to run in place of the SQL text and its parameters, or undefined for pg-mem's own path. */
  const bound = (query: unknown, valuesOrCallback: unknown, callback: unknown): { statement: Ast; values: unknown[] } | undefined => {
    if (callback !== undefined || typeof valuesOrCallback === 'function') return undefined;
    let sql: unknown = query;
    let values: unknown = valuesOrCallback;
    if (query !== null && typeof query === 'object') {
      const config = query as PgQueryConfig;
      if (config.types !== undefined || config.rowMode !== undefined) return undefined;
      sql = config.text;
      values = config.values ?? valuesOrCallback;
    }
    if (typeof sql !== 'string' || !Array.isArray(values) || values.length === 0) return undefined;
    const entry = parsed(sql);
    if (!entry || entry.maxParam > values.length || !textUnobserved(mem)) return undefined;
    const literals: Literal[] = [];
    for (const value of values) {
      const literal = literalOf(value);
      if (!literal) return undefined;
      literals.push(literal);
    }
    return { statement: substitute(entry.ast, literals), values };
  };

  class PgMemPool extends MemPg {
    override query(query: unknown, valuesOrCallback?: unknown, callback?: unknown): unknown {
      const fast = bound(query, valuesOrCallback, callback);
      if (fast === undefined) return super.query(query, valuesOrCallback, callback);
      const { statement, values } = fast;
      // A tree with placeholders is a fresh copy for this call; one without is shared, and its text the same on every call.
      if (statement !== null && typeof statement === 'object') {
        statementTexts.set(statement, () => `${(this as unknown as { adaptQuery(q: unknown, v: unknown): { text: string } }).adaptQuery(query, values).text};`);
      }
      let result: unknown;
      try {
        result = this.adaptResults(query, (mem.public as unknown as { query(ast: Ast): unknown }).query(statement));
      } catch {
        return super.query(query, valuesOrCallback, callback);
      }
      // "Later", as pg-mem's adapter resolves (setImmediate with no latency configured).
      return new Promise((resolve) => setImmediate(() => resolve(result)));
    }
  }
  return { Pool: PgMemPool as unknown as new () => P, Client: PgMemPool as unknown as new () => P };
}
