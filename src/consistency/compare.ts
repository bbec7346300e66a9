import type { DatabaseHandle } from '../db/toQueryable';
import type { Row } from '../db/types';
import { CacheLoadError } from '../errors';
import type { KeyEntry, KeyType, RedisText } from '../keyspace/types';
import { CachedState, type CompiledContract, type EntryTest } from './contract';
import { loadRows, type LoadRequest } from './load';
import {
  asString,
  columnText,
  compareText,
  deepEqual,
  entryHash,
  jsonNormalize,
  printableText,
  project,
  rowAsHash,
  sameText,
} from './values';

/** Why a key is inconsistent. docs/matchers.md explains each. */
export type InconsistencyKind =
  /** The cached value differs from a fresh read-through. */
  | 'stale'
  /** The key holds a row that no longer exists. */
  | 'orphaned'
  /** The key holds the contract's "not found" marker, but the row exists now. */
  | 'stale-not-found'
  /** A hash cache has fields missing or extra. */
  | 'partial-hash'
  /** A list/set/sorted-set cache has members missing or extra. */
  | 'collection-drift'
  /** The key's Redis type is not the one its contract's encoding stores. */
  | 'wrong-type'
  /** The cached value could not be decoded (invalid JSON, a custom decode that threw). */
  | 'undecodable'
  /** No contract covers the key (reported in strict mode only). */
  | 'unmapped';

/** One inconsistent key, with both sides decoded. */
export interface Inconsistency {
  key: RedisText;
  /** The key as display text (bytes that are not UTF-8 escaped as \xNN). */
  keyText: string;
  /** The Redis type; a module type (`ReJSON-RL`, ...) for a key captureKeyspace lists without reading. */
  type: KeyType | (string & {});
  ttlMs: number | null;
  kind: InconsistencyKind;
  /** The contract that covers the key (absent for unmapped keys). */
  contract?: string;
  /** The cached value, decoded (a JSON value, a hash as an object, a set as a sorted array, ...). */
  cached: unknown;
  /** What a fresh read-through would store, or `undefined` when the database has no row. */
  expected: unknown;
  /** One line saying what differs: "missing fields: email", "version 3, the row has version 4", ... */
  detail?: string;
  /** Who last wrote the key, when the race helpers recorded it (see `registerWriterLookup`). */
  writtenBy?: string;
}

/** The outcome of comparing a keyspace with the database. */
export interface ConsistencyReport {
  /** Keys read from Redis. */
  keys: number;
  /** Keys compared with the database (covered by a contract, neither ignored nor skipped). */
  checked: number;
  /** Keys a contract's `skip` or `cached.notCached` passed over (lease tokens, tombstones). */
  skipped: number;
  /** Keys covered by an `ignore: true` contract. */
  ignored: number;
  /** Keys no contract covers (inconsistencies only in strict mode). */
  unmapped: number;
  /** Sorted by key (byte order). Empty when consistent. */
  inconsistencies: Inconsistency[];
  /** Names of the contracts in effect, in matching order. */
  contracts: string[];
  /** True when the default convention (`<table>:<id>` holds the row as JSON) was in effect. */
  convention: boolean;
  strict: boolean;
}

const TYPE_OF_ENCODING = { json: 'string', string: 'string', hash: 'hash', list: 'list', set: 'set', zset: 'zset' } as const;

type Decoded =
  | { kind: 'value'; value: unknown }
  | { kind: 'notFound'; value: unknown }
  | { kind: 'version'; version: unknown; value: unknown; hasValue: boolean }
  | { kind: 'skip' }
  | { kind: 'problem'; problem: 'wrong-type' | 'undecodable'; value: unknown; detail: string };

/** The entry's value in a form that reads well in a message and diffs well: JSON strings parsed, hashes as objects. */
export function displayValue(entry: KeyEntry): unknown {
  switch (entry.type) {
    case 'string': {
      const text = entry.value;
      if (typeof text === 'string' && /^\s*[[{"]/.test(text)) {
        try {
          return JSON.parse(text);
        } catch {
          return text;
        }
      }
      return text;
    }
    case 'hash':
      return entryHash(entry);
    case 'zset':
      return entry.value.map(({ member, score }) => ({ member, score }));
    default:
      return entry.value;
  }
}

function entryTest(test: EntryTest | undefined, entry: KeyEntry, prefix: boolean): boolean {
  if (test === undefined) return false;
  if (typeof test === 'function') return Boolean(test(entry));
  if (entry.type !== 'string') return false;
  const text = asString(entry.value);
  if (test instanceof RegExp) {
    test.lastIndex = 0;
    return test.test(text);
  }
  return prefix ? text.startsWith(test) : sameText(entry.value, test);
}

function sortTexts(list: readonly RedisText[]): RedisText[] {
  return [...list].sort(compareText);
}

function builtinDecode(c: CompiledContract, entry: KeyEntry): Decoded {
  const want = TYPE_OF_ENCODING[c.encoding];
  if (entry.type !== want) {
    return {
      kind: 'problem',
      problem: 'wrong-type',
      value: displayValue(entry),
      detail: `the contract stores ${c.encoding === 'json' ? 'JSON in a string' : `a ${want}`}, the key is a ${entry.type}`,
    };
  }
  switch (entry.type) {
    case 'string':
      if (c.encoding === 'string') return { kind: 'value', value: entry.value };
      try {
        return { kind: 'value', value: JSON.parse(asString(entry.value)) };
      } catch (err) {
        return { kind: 'problem', problem: 'undecodable', value: entry.value, detail: `not valid JSON (${(err as Error).message})` };
      }
    case 'hash':
      return { kind: 'value', value: entryHash(entry) };
    case 'list':
      return { kind: 'value', value: entry.value };
    case 'set':
      return { kind: 'value', value: sortTexts(entry.value) };
    case 'zset':
      return { kind: 'value', value: entry.value.map(({ member, score }) => ({ member, score })) };
    default:
      return { kind: 'problem', problem: 'wrong-type', value: displayValue(entry), detail: 'a stream cannot hold rows' };
  }
}

/**
 * A cache library's entry as the value inside its envelope (a string entry holding that value as JSON, or as
 * the string itself for `as: 'string'`), so that skip, notFound, decode and the built-in decoding read the
 * logical value. `'expired'`: the library no longer returns it.
 */
function unwrapEntry(
  c: CompiledContract,
  entry: KeyEntry,
  nowMs: number,
  stored: (key: string) => string | undefined,
): KeyEntry | 'expired' | Extract<Decoded, { kind: 'problem' }> {
  const codec = c.codec!;
  if (entry.type !== 'string') {
    return { kind: 'problem', problem: 'wrong-type', value: displayValue(entry), detail: `${codec.library} stores its values in a string, the key is a ${entry.type}` };
  }
  const out = codec.decode(asString(entry.value), nowMs, stored);
  if (out.kind === 'invalid') return { kind: 'problem', problem: 'undecodable', value: displayValue(entry), detail: out.problem };
  if (out.kind === 'expired') return 'expired';
  const inner = c.encoding === 'string' && typeof out.value === 'string' ? out.value : JSON.stringify(out.value);
  return { key: entry.key, ttlMs: entry.ttlMs, type: 'string', value: inner === undefined ? 'null' : inner };
}

/** What a codec may read besides the entry: the comparison's clock and the other keys' string values. */
interface CodecContext {
  nowMs: number;
  stored: (key: string) => string | undefined;
}

function decodeEntry(c: CompiledContract, raw: KeyEntry, params: Record<string, string>, context: CodecContext): Decoded {
  let entry = raw;
  if (c.codec) {
    const unwrapped = unwrapEntry(c, raw, context.nowMs, context.stored);
    if (unwrapped === 'expired') return { kind: 'skip' };
    if ('kind' in unwrapped) return unwrapped;
    entry = unwrapped;
  }
  if (entryTest(c.options.skip, entry, true)) return { kind: 'skip' };
  if (entryTest(c.options.notFound, entry, false)) return { kind: 'notFound', value: displayValue(entry) };
  if (!c.options.decode) return builtinDecode(c, entry);
  let out: unknown;
  try {
    out = c.options.decode(entry, params as never);
  } catch (err) {
    return { kind: 'problem', problem: 'undecodable', value: displayValue(entry), detail: `decode threw: ${(err as Error)?.message ?? String(err)}` };
  }
  if (out instanceof CachedState) {
    if (out.kind === 'notCached') return { kind: 'skip' };
    if (out.kind === 'notFound') return { kind: 'notFound', value: displayValue(entry) };
    return { kind: 'version', version: out.version, value: out.value, hasValue: out.hasValue };
  }
  return { kind: 'value', value: out };
}

function onlyColumn(c: CompiledContract, row: Row, key: string, role: string): string {
  if (c.options.column !== undefined) return c.options.column;
  const columns = Object.keys(row).filter((k) => k !== c.options.score);
  if (columns.length === 1) return columns[0]!;
  throw new CacheLoadError(c.name, key, `the rows have columns ${columns.join(', ')}; set column: the one holding each ${role}`);
}

const ABSENT = Symbol('no row');

/** What a fresh read-through would store for these rows, or ABSENT when the key must not hold data. */
function expectedValue(c: CompiledContract, rows: Row[], params: Record<string, string>, key: string): unknown {
  if (c.options.expected) {
    const v = c.options.expected(rows, params as never);
    return v === undefined ? ABSENT : v;
  }
  const fields = c.options.fields;
  switch (c.encoding) {
    case 'json':
      if (c.options.many) return rows.map((r) => jsonNormalize(project(r, fields)));
      return rows.length ? jsonNormalize(project(rows[0]!, fields)) : ABSENT;
    case 'hash':
      return rows.length ? rowAsHash(project(rows[0]!, fields)) : ABSENT;
    case 'string': {
      if (!rows.length) return ABSENT;
      return columnText(rows[0]![onlyColumn(c, rows[0]!, key, 'value')]) ?? null;
    }
    case 'list':
    case 'set': {
      const members = rows.map((r) => columnText(r[onlyColumn(c, r, key, 'member')]) ?? '');
      return c.encoding === 'set' ? sortTexts([...new Map(members.map((m) => [printableText(m), m])).values()]) : members;
    }
    case 'zset': {
      const score = c.options.score!;
      return rows
        .map((r) => ({ member: columnText(r[onlyColumn(c, r, key, 'member')]) ?? '', score: Number(r[score]) }))
        .sort((a, b) => a.score - b.score || compareText(a.member, b.member));
    }
  }
}

function memberLabel(m: unknown): string {
  if (typeof m === 'string' || Buffer.isBuffer(m)) return printableText(m);
  if (m && typeof m === 'object' && 'member' in m) return printableText((m as { member: RedisText }).member);
  return JSON.stringify(m);
}

function listDiff(label: string, names: string[]): string {
  const shown = names.slice(0, 5).join(', ');
  return `${label} ${shown}${names.length > 5 ? `, … (${names.length} in all)` : ''}`;
}

/** Compares a decoded cached value with the expected one the way the contract's encoding reads it. */
function compareValues(c: CompiledContract, cachedValue: unknown, expected: unknown): { kind: InconsistencyKind; detail?: string } | undefined {
  if (c.encoding === 'hash' && isPlainObject(cachedValue) && isPlainObject(expected)) {
    const missing = Object.keys(expected).filter((f) => !(f in cachedValue)).sort();
    const extra = Object.keys(cachedValue).filter((f) => !(f in expected)).sort();
    if (missing.length || extra.length) {
      const parts = [missing.length ? listDiff('missing fields:', missing) : '', extra.length ? listDiff('extra fields:', extra) : ''];
      return { kind: 'partial-hash', detail: parts.filter(Boolean).join('; ') };
    }
    const differ = Object.keys(expected).filter((f) => !deepEqual(cachedValue[f], expected[f])).sort();
    return differ.length ? { kind: 'stale', detail: listDiff('fields that differ:', differ) } : undefined;
  }
  if ((c.encoding === 'list' || c.encoding === 'set' || c.encoding === 'zset') && Array.isArray(cachedValue) && Array.isArray(expected)) {
    const count = (list: unknown[]) => {
      const m = new Map<string, number>();
      for (const x of list) m.set(memberLabel(x), (m.get(memberLabel(x)) ?? 0) + 1);
      return m;
    };
    const have = count(cachedValue);
    const want = count(expected);
    const missing = [...want].filter(([m, n]) => (have.get(m) ?? 0) < n).map(([m]) => m).sort();
    const extra = [...have].filter(([m, n]) => (want.get(m) ?? 0) < n).map(([m]) => m).sort();
    if (missing.length || extra.length) {
      const parts = [missing.length ? listDiff('missing members:', missing) : '', extra.length ? listDiff('extra members:', extra) : ''];
      return { kind: 'collection-drift', detail: parts.filter(Boolean).join('; ') };
    }
    if (deepEqual(cachedValue, expected)) return undefined;
    return { kind: 'stale', detail: c.encoding === 'zset' ? 'same members, different scores' : 'same members, different order' };
  }
  if (deepEqual(cachedValue, expected)) return undefined;
  if (isPlainObject(cachedValue) && isPlainObject(expected)) {
    const keys = [...new Set([...Object.keys(cachedValue), ...Object.keys(expected)])];
    const differ = keys.filter((k) => !deepEqual(cachedValue[k], expected[k])).sort();
    return { kind: 'stale', detail: listDiff('fields that differ:', differ) };
  }
  return { kind: 'stale' };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);
}

interface Check {
  entry: KeyEntry;
  keyText: string;
  contract: CompiledContract;
  params: Record<string, string>;
  decoded: Exclude<Decoded, { kind: 'skip' }>;
}

function judge(check: Check, rows: Row[]): Inconsistency | undefined {
  const { entry, contract: c, decoded, params, keyText } = check;
  const base = { key: entry.key, keyText, type: entry.type, ttlMs: entry.ttlMs, contract: c.name };
  const exp = expectedValue(c, rows, params, keyText);
  const expected = exp === ABSENT ? undefined : exp;
  switch (decoded.kind) {
    case 'problem':
      return { ...base, kind: decoded.problem, cached: decoded.value, expected, detail: decoded.detail };
    case 'notFound':
      return exp === ABSENT
        ? undefined
        : { ...base, kind: 'stale-not-found', cached: decoded.value, expected };
    case 'version': {
      if (rows.length === 0) return { ...base, kind: 'orphaned', cached: decoded.hasValue ? decoded.value : { version: decoded.version }, expected: undefined, detail: `version ${String(decoded.version)} of a row that no longer exists` };
      const column = c.options.versionColumn ?? 'version';
      const row = rows[0]!;
      if (!(column in row)) throw new CacheLoadError(c.name, keyText, `decode returned a version, but the row has no column ${column} (set versionColumn)`);
      if (String(row[column]) !== String(decoded.version)) {
        return {
          ...base,
          kind: 'stale',
          cached: decoded.hasValue ? decoded.value : { [column]: decoded.version },
          expected: decoded.hasValue ? expected : { [column]: jsonNormalize(row[column]) },
          detail: `version ${String(decoded.version)}, the row has ${column} ${String(row[column])}`,
        };
      }
      if (!decoded.hasValue) return undefined;
      const diff = compareValues(c, decoded.value, expected);
      return diff && { ...base, ...diff, cached: decoded.value, expected };
    }
    case 'value': {
      if (exp === ABSENT) {
        return { ...base, kind: 'orphaned', cached: decoded.value, expected: undefined };
      }
      const diff = compareValues(c, decoded.value, expected);
      return diff && { ...base, ...diff, cached: decoded.value, expected };
    }
  }
}

/** Compiled contracts in matching order; the first whose pattern matches a key covers it. */
export interface ContractSet {
  contracts: readonly CompiledContract[];
  convention: boolean;
}

export interface CompareOptions {
  strict?: boolean;
  /** Fills `writtenBy` of each inconsistency. */
  writtenBy?: (key: string, inconsistency: Inconsistency) => string | undefined;
}

/**
 * Compares captured entries with the database: every entry a contract covers must hold what a fresh
 * read-through would store now. Reads the database, never Redis.
 */
export async function compareEntries(
  entries: readonly KeyEntry[],
  db: DatabaseHandle,
  set: ContractSet,
  options: CompareOptions = {},
): Promise<ConsistencyReport> {
  const sorted = [...entries].sort((a, b) => compareText(a.key, b.key));
  const report: ConsistencyReport = {
    keys: sorted.length,
    checked: 0,
    skipped: 0,
    ignored: 0,
    unmapped: 0,
    inconsistencies: [],
    contracts: set.contracts.map((c) => c.name),
    convention: set.convention,
    strict: Boolean(options.strict),
  };
  // One clock for the whole comparison: a cache library's own expiry (keyv's expires) is judged against it.
  let strings: Map<string, string> | undefined;
  const codecContext: CodecContext = {
    nowMs: Date.now(),
    stored: (key) => {
      strings ??= new Map(sorted.flatMap((e) => (e.type === 'string' && typeof e.key === 'string' ? [[e.key, asString(e.value)]] : [])));
      return strings.get(key);
    },
  };
  const checks = new Map<CompiledContract, Check[]>();
  const found: Inconsistency[] = [];
  for (const entry of sorted) {
    const keyText = printableText(entry.key);
    let hit: { contract: CompiledContract; params: Record<string, string> } | undefined;
    if (typeof entry.key === 'string') {
      for (const contract of set.contracts) {
        const params = contract.pattern.match(entry.key);
        if (params && (!contract.accepts || contract.accepts(params))) {
          hit = { contract, params };
          break;
        }
      }
    }
    if (!hit) {
      report.unmapped++;
      if (options.strict) {
        found.push({ key: entry.key, keyText, type: entry.type, ttlMs: entry.ttlMs, kind: 'unmapped', cached: displayValue(entry), expected: undefined });
      }
      continue;
    }
    if (hit.contract.options.ignore) {
      report.ignored++;
      continue;
    }
    const decoded = decodeEntry(hit.contract, entry, hit.params, codecContext);
    if (decoded.kind === 'skip') {
      report.skipped++;
      continue;
    }
    report.checked++;
    let list = checks.get(hit.contract);
    if (!list) checks.set(hit.contract, (list = []));
    list.push({ entry, keyText, contract: hit.contract, params: hit.params, decoded });
  }
  // Contracts in order, keys in order: the same state always issues the same queries and reports the same error.
  for (const contract of set.contracts) {
    const list = checks.get(contract);
    if (!list) continue;
    const requests: LoadRequest[] = list.map((ch) => ({ key: ch.keyText, params: ch.params }));
    const rows = await loadRows(db, contract, requests);
    list.forEach((check, i) => {
      const bad = judge(check, rows[i]!);
      if (bad) found.push(bad);
    });
  }
  found.sort((a, b) => compareText(a.key, b.key));
  if (options.writtenBy) {
    for (const item of found) {
      const who = options.writtenBy(item.keyText, item);
      if (who) item.writtenBy = who;
    }
  }
  report.inconsistencies = found;
  return report;
}
