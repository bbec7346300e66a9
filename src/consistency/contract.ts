import type { Queryable, Row } from '../db/types';
import { CacheContractError } from '../errors';
import { findUnknownKey, optionKeys } from '../optionKeys';
import type { KeyEntry } from '../keyspace/types';
import { isCacheCodec, type CacheCodec } from '../keyspace/codecs';
import { compileKeyPattern, type KeyParams, type KeyPattern, type ParamNames } from './pattern';

export type { KeyParams, ParamNames } from './pattern';

/** How a cached key encodes its rows. docs/contracts.md shows each one. */
export type CacheEncoding = 'json' | 'hash' | 'string' | 'list' | 'set' | 'zset';

/** What `load` may return: one row, many rows, or none (`null`, `undefined` or `[]`). */
export type LoadResult = Row | readonly Row[] | null | undefined;

/** A predicate over the cached entry, or a shorthand: a string (see each option) or a RegExp on a string value. */
export type EntryTest = string | RegExp | ((entry: KeyEntry) => boolean);

/**
 * The states a custom `decode` can return instead of a value. Returning a plain value means "the cache holds
 * this data": it is compared with what a fresh read-through would store.
 */
export class CachedState {
  readonly kind: 'notCached' | 'notFound' | 'version';
  readonly version: unknown;
  readonly value: unknown;
  readonly hasValue: boolean;
  constructor(kind: 'notCached' | 'notFound' | 'version', version?: unknown, value?: unknown, hasValue = false) {
    this.kind = kind;
    this.version = version;
    this.value = value;
    this.hasValue = hasValue;
    Object.freeze(this);
  }
}

/** Return values for a custom `decode`. */
export const cached = Object.freeze({
  /** The key holds no data (an in-flight lease token, a tombstone meaning "not cached"): nothing to compare. */
  notCached: new CachedState('notCached'),
  /** The key holds a "not found" marker: consistent only while the row is absent. */
  notFound: new CachedState('notFound'),
  /**
   * The key holds data at `version`: consistent when the row exists and its version column (option
   * `versionColumn`, default `version`) equals it. Pass `value` too to compare the data as well.
   */
  version(version: unknown, ...value: [] | [unknown]): CachedState {
    return new CachedState('version', version, value[0], value.length > 0);
  },
});

/** Everything `defineCache` accepts. Exactly one of `load`, `table` or `ignore` says where the truth is. */
export interface CacheContractOptions<K extends string = string> {
  /** The key pattern: literal text and `{param}`s, e.g. `user:{id}`. A param matches 1+ characters other than `:`. */
  key: K;
  /** A name for messages. Default: the key pattern. */
  name?: string;
  /**
   * Reads the rows the key must hold, given the key's params (as text). Returns one row, many rows or none.
   * `db` is the handle passed to the matcher, normalised to `query(sql, params) => rows`.
   */
  load?: (db: Queryable, params: KeyParams<K>) => LoadResult | Promise<LoadResult>;
  /** Declarative form of `load`: `SELECT * FROM <table> WHERE <column> = <param> ...`. Batched: fast for many keys. */
  table?: string;
  /** For `table`: column -> key param. Default: every key param is a column of the same name. */
  where?: Readonly<Record<string, ParamNames<K>>>;
  /** For `table`: an ORDER BY clause (`'position'`, `'score DESC, id'`), for `many` values and collections. */
  orderBy?: string;
  /** How the key encodes its rows. Default `'json'`. */
  as?: CacheEncoding;
  /** For `json`: the value is the JSON array of all rows (possibly empty) instead of one row. */
  many?: boolean;
  /** Projection: the cache holds only these columns of the row (`json` and `hash`). */
  fields?: readonly string[];
  /** For `string`, `list`, `set`, `zset`: the column whose value is the string or member. Default: the row's only column. */
  column?: string;
  /** For `zset`: the column holding the score. */
  score?: string;
  /**
   * Custom decode of the cached entry, replacing the built-in one of `as`. Return the data it holds (compared
   * with the expected value), or `cached.notCached`, `cached.notFound`, `cached.version(v, data?)`.
   */
  decode?: (entry: KeyEntry, params: KeyParams<K>) => unknown;
  /**
   * Custom expected value: what a fresh read-through stores for these rows (`undefined`: the key must not
   * hold data). Default: derived from `as`, `many`, `fields`, `column`, `score`.
   */
  expected?: (rows: Row[], params: KeyParams<K>) => unknown;
  /**
   * The explicit "not found" marker: a cached value meaning "no such row". A string is compared with the
   * whole string value; a RegExp is tested on it; a function gets the entry. Consistent only while the row is absent.
   */
  notFound?: EntryTest;
  /**
   * Entries that hold no data and are skipped: lease tokens, "fill in progress" values. A string is a
   * prefix of the string value; a RegExp is tested on it; a function gets the entry.
   */
  skip?: EntryTest;
  /** The row column that `cached.version(v)` is compared with. Default `'version'`. */
  versionColumn?: string;
  /** Bookkeeping keys that hold no row (generation counters, locks): covered, never compared. */
  ignore?: boolean;
  /**
   * The cache library that wrote the keys: `keyvCodec({ namespace })` (Keyv, cache-manager) or
   * `bentocacheCodec({ prefix })`. `key` is then the library's logical key (`user:{id}`): the codec adds the
   * library's prefix and unwraps its stored value before the comparison (see docs/contracts.md#cache-libraries).
   */
  codec?: CacheCodec;
}

export const CONTRACT_BRAND = Symbol.for('jest-cache-consistency.contract');

/** A cache contract: which keys, and which database rows each must equal. Made by {@link defineCache}. */
export interface CacheContract<K extends string = string> {
  readonly [CONTRACT_BRAND]: true;
  readonly name: string;
  readonly key: K;
  readonly options: Readonly<CacheContractOptions<K>>;
  /** The key's params, or `undefined` when the key does not match the pattern. */
  match(key: string): KeyParams<K> | undefined;
  /**
   * The Redis key for the given params: `userById.keyFor({ id: 1 })` is `'user:1'` (with a codec, the stored
   * key: `'keyv::keyv:user:1'`).
   */
  keyFor(params: { [P in ParamNames<K>]: string | number | bigint }): string;
}

/** Any contract, whatever its key pattern. */
export type AnyCacheContract = CacheContract<any>;

const IDENT = /^[A-Za-z_][A-Za-z0-9_$]*(\.[A-Za-z_][A-Za-z0-9_$]*)?$/;
const ORDER_BY = /^\s*[A-Za-z_][A-Za-z0-9_.$]*(\s+(ASC|DESC))?(\s+NULLS\s+(FIRST|LAST))?(\s*,\s*[A-Za-z_][A-Za-z0-9_.$]*(\s+(ASC|DESC))?(\s+NULLS\s+(FIRST|LAST))?)*\s*$/i;
const ENCODINGS: readonly CacheEncoding[] = ['json', 'hash', 'string', 'list', 'set', 'zset'];
const KNOWN = optionKeys<CacheContractOptions>({
  key: true, name: true, load: true, table: true, where: true, orderBy: true, as: true, many: true, fields: true, column: true,
  score: true, decode: true, expected: true, notFound: true, skip: true, versionColumn: true, ignore: true, codec: true,
});

export function isCacheContract(value: unknown): value is AnyCacheContract {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[CONTRACT_BRAND] === true;
}

/** The compiled form the comparison uses. */
export interface CompiledContract {
  readonly contract: AnyCacheContract;
  readonly name: string;
  readonly pattern: KeyPattern;
  readonly options: Readonly<CacheContractOptions<string>>;
  readonly encoding: CacheEncoding;
  /** The cache library's stored format, when the keys were written by one. */
  readonly codec?: CacheCodec;
  /** For the table form: column -> param. */
  readonly where: ReadonlyArray<readonly [column: string, param: string]>;
  /** Narrows which matching keys the contract covers (the default convention: ids valid for the column type). */
  readonly accepts?: (params: Record<string, string>) => boolean;
}

const compiled = new WeakMap<object, CompiledContract>();

/** The compiled form of a contract made by defineCache. */
export function compiledContract(contract: AnyCacheContract): CompiledContract {
  const c = compiled.get(contract);
  if (!c) throw new CacheContractError(String((contract as { name?: unknown }).name), 'contract', 'was not made by defineCache()');
  return c;
}

function isEntryTest(v: unknown): boolean {
  return typeof v === 'string' || v instanceof RegExp || typeof v === 'function';
}

/**
 * Declares what a family of cached keys must hold.
 *
 * @example
 * const userById = defineCache({
 *   key: 'user:{id}',
 *   load: (db, { id }) => db.query('SELECT id, name, email FROM users WHERE id = $1', [id]),
 * });
 * const activeIds = defineCache({ key: 'users:active', table: 'users', where: {}, column: 'id', as: 'set' });
 * await expect(redis).toBeConsistentWith(db, [userById, activeIds]);
 */
export function defineCache<const K extends string>(options: CacheContractOptions<K>): CacheContract<K> {
  if (typeof options !== 'object' || options === null) throw new CacheContractError('(unnamed)', 'options', 'defineCache() needs an options object');
  const label = typeof options.name === 'string' && options.name ? options.name : typeof options.key === 'string' ? options.key : '(unnamed)';
  const fail = (option: string, problem: string): never => {
    throw new CacheContractError(label, option, problem);
  };
  const unknown = findUnknownKey(options, KNOWN);
  if (unknown) fail(unknown.key, unknown.problem);
  if (options.codec !== undefined && !isCacheCodec(options.codec)) fail('codec', 'must be made by keyvCodec() or bentocacheCodec()');
  const codec = options.codec;
  const logical = compileKeyPattern(options.key);
  if (typeof logical === 'string') return fail('key', logical);
  // With a codec, the pattern matches the stored key: the library's prefix (braces escaped) and the logical key.
  const pattern = codec ? (compileKeyPattern(codec.keyPrefix.replace(/[{}]/g, '$&$&') + options.key) as KeyPattern) : logical;
  if (options.name !== undefined && (typeof options.name !== 'string' || !options.name)) fail('name', 'must be a non-empty string');

  const sources = (['load', 'table', 'ignore'] as const).filter((k) => options[k] !== undefined && options[k] !== false);
  if (sources.length !== 1)
    fail(sources.length ? sources.join(' + ') : 'load', sources.length ? 'give exactly one of load, table or ignore' : 'give one of load (a function), table (a table name) or ignore: true');
  if (options.ignore !== undefined && typeof options.ignore !== 'boolean') fail('ignore', 'must be true or false');
  if (options.load !== undefined && typeof options.load !== 'function') fail('load', 'must be a function (db, params) => rows');
  if (options.ignore) {
    const extra = Object.keys(options).filter((k) => !['key', 'name', 'ignore', 'codec'].includes(k));
    if (extra.length) fail(extra[0]!, 'an ignored key is never compared: only key, name and codec apply');
  }

  const encoding = options.as ?? 'json';
  if (!ENCODINGS.includes(encoding)) fail('as', `must be one of ${ENCODINGS.map((e) => `'${e}'`).join(', ')}`);
  if (codec && encoding !== 'json' && encoding !== 'string')
    fail('as', `${codec.library} stores JSON in a string: with codec, as is 'json' (default) or 'string' (the value is a string)`);

  let where: Array<[string, string]> = [];
  if (options.table !== undefined) {
    if (typeof options.table !== 'string' || !IDENT.test(options.table)) fail('table', 'must be a table name (an identifier, optionally schema-qualified)');
    if (options.where !== undefined) {
      if (typeof options.where !== 'object' || options.where === null) fail('where', 'must be an object { column: param }');
      where = Object.entries(options.where as Record<string, unknown>).map(([column, param]) => {
        if (!IDENT.test(column)) fail(`where.${column}`, 'must be a column name');
        if (typeof param !== 'string' || !pattern.params.includes(param))
          fail(`where.${column}`, `must name a parameter of the key pattern (${pattern.params.map((p) => `{${p}}`).join(', ') || 'it has none'})`);
        return [column, param as string];
      });
    } else {
      where = pattern.params.map((p) => [p, p]);
    }
    const unused = pattern.params.filter((p) => !where.some(([, param]) => param === p));
    if (unused.length) fail('where', `key parameter {${unused[0]}} is not used in where: every parameter must select rows`);
    if (options.orderBy !== undefined && (typeof options.orderBy !== 'string' || !ORDER_BY.test(options.orderBy)))
      fail('orderBy', 'must be a list of columns, each optionally ASC/DESC (e.g. "position", "score DESC, id")');
  } else {
    for (const k of ['where', 'orderBy'] as const) if (options[k] !== undefined) fail(k, 'only applies with table');
  }

  if (options.many !== undefined && typeof options.many !== 'boolean') fail('many', 'must be true or false');
  if (options.many && encoding !== 'json') fail('many', `only applies to as: 'json' (list, set and zset always hold many rows)`);
  if (options.fields !== undefined) {
    if (!Array.isArray(options.fields) || options.fields.length === 0 || !options.fields.every((f) => typeof f === 'string' && f))
      fail('fields', 'must be a non-empty array of column names');
    if (encoding !== 'json' && encoding !== 'hash') fail('fields', `only applies to as: 'json' and 'hash' (use column for ${encoding})`);
  }
  if (options.column !== undefined) {
    if (typeof options.column !== 'string' || !options.column) fail('column', 'must be a column name');
    if (encoding === 'json' || encoding === 'hash') fail('column', `does not apply to as: '${encoding}' (use fields for a projection)`);
  }
  if (options.table !== undefined && encoding !== 'json' && encoding !== 'hash' && options.column === undefined && !options.expected)
    fail('column', `as: '${encoding}' with table needs column: the column holding each ${encoding === 'string' ? 'value' : 'member'}`);
  if (options.score !== undefined) {
    if (typeof options.score !== 'string' || !options.score) fail('score', 'must be a column name');
    if (encoding !== 'zset') fail('score', `only applies to as: 'zset'`);
  } else if (encoding === 'zset' && !options.expected) fail('score', `as: 'zset' needs score: the column holding each member's score`);
  for (const k of ['decode', 'expected'] as const)
    if (options[k] !== undefined && typeof options[k] !== 'function') fail(k, 'must be a function');
  for (const k of ['notFound', 'skip'] as const)
    if (options[k] !== undefined && !isEntryTest(options[k])) fail(k, 'must be a string, a RegExp or a function (entry) => boolean');
  if (options.notFound !== undefined && options.many) fail('notFound', 'a many-rows value has no "not found": no rows is an empty array');
  if (options.notFound !== undefined && ['list', 'set', 'zset'].includes(encoding) && typeof options.notFound !== 'function')
    fail('notFound', `for a ${encoding} give a function (entry) => boolean`);
  if (options.versionColumn !== undefined && (typeof options.versionColumn !== 'string' || !options.versionColumn))
    fail('versionColumn', 'must be a column name');

  const contract: CacheContract<K> = {
    [CONTRACT_BRAND]: true as const,
    name: label,
    key: options.key,
    options: Object.freeze({ ...options }),
    match: (key: string) => pattern.match(key) as KeyParams<K> | undefined,
    keyFor: (params: Record<string, unknown>) => pattern.format(params),
  };

  // How messages print a contract (pretty-format calls toJSON): its name, not its functions.
  Object.defineProperty(contract, 'toJSON', { value: () => `[CacheContract ${label}]`, enumerable: false });
  Object.freeze(contract);
  compiled.set(contract, {
    contract,
    name: label,
    pattern,
    options: contract.options as CacheContractOptions<string>,
    encoding,
    ...(codec ? { codec } : {}),
    where,
  });
  return contract;
}
