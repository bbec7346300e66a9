import { InvalidKeyspaceOptionError } from '../errors';
import { findUnknownKey, optionKeys } from '../optionKeys';
import { globToRegExp } from './glob';
import { looksLikeJson } from './json';
import type { KeyEntry, RedisText } from './types';

/** What a redacted value prints as (and holds, in the captured data). */
export const REDACTED = '[REDACTED]';

/**
 * One redaction rule:
 * - `'session:*'`: a key glob; the whole value of every matching key is redacted;
 * - `'$.password'`, `'$..token'`, `'$.cards[*].number'`: a JSON path, applied to every value that holds
 *   JSON (string values, hash values, list items, stream field values);
 * - `/token/i`: tested against key names (whole value), hash and stream field names, and JSON property
 *   names at any depth;
 * - `{ key?, field?, path? }`: `field` (a name or RegExp) and `path` (a JSON path) limited to keys matching
 *   `key` (a glob or RegExp); `{ key }` alone redacts whole values.
 */
export type RedactRule = string | RegExp | { key?: string | RegExp; field?: string | RegExp; path?: string };

/** The properties of a `{ key, field, path }` rule. */
const RULE_KEYS = optionKeys<Extract<RedactRule, { key?: unknown }>>({ key: true, field: true, path: true });

type PathSegment =
  | { kind: 'name'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'wildcard' }
  | { kind: 'descendant'; inner: Exclude<PathSegment, { kind: 'descendant' }> };

type JsonPath = PathSegment[];

interface CompiledRule {
  key?: (key: RedisText) => boolean;
  /** Whole-value rule (key-only). */
  whole: boolean;
  field?: (field: RedisText) => boolean;
  path?: JsonPath;
  /** A bare RegExp: keys, fields and JSON property names. */
  any?: RegExp;
}

function latin1(text: RedisText): string {
  return typeof text === 'string' ? Buffer.from(text, 'utf8').toString('latin1') : text.toString('latin1');
}

function plain(text: RedisText): string {
  return typeof text === 'string' ? text : text.toString('latin1');
}

function testRegExp(re: RegExp, text: string): boolean {
  re.lastIndex = 0; // a /g or /y RegExp keeps state between calls
  return re.test(text);
}

/** Makes the error for a bad rule: each caller names its own option (keyspace, preset, race, matcher). */
export type RedactRuleFailure = (option: string, problem: string) => Error;

const keyspaceFailure: RedactRuleFailure = (option, problem) => new InvalidKeyspaceOptionError(option, problem);

function keyTest(option: string, value: string | RegExp, failure: RedactRuleFailure): (key: RedisText) => boolean {
  if (value instanceof RegExp) return (k) => testRegExp(value, plain(k));
  if (typeof value !== 'string' || value === '') {
    throw failure(option, 'must be a key glob (a non-empty string) or a RegExp');
  }
  const re = globToRegExp(value);
  return (k) => re.test(latin1(k));
}

/** Parses `$`, `.name`, `['name']`, `[0]`, `[*]`, `.*`, `..name`, `..*`, `..[0]`. */
export function parseJsonPath(path: string, option = 'redact', failure: RedactRuleFailure = keyspaceFailure): JsonPath {
  const fail = (why: string) =>
    failure(option, `${JSON.stringify(path)} is not a JSON path (${why}); write e.g. '$.user.password', '$..token', "$['a b'][0]"`);
  if (!path.startsWith('$')) throw fail('it must start with $');
  const out: JsonPath = [];
  let i = 1;
  const readSimple = (): Exclude<PathSegment, { kind: 'descendant' }> => {
    if (path[i] === '[') {
      const end = path.indexOf(']', i);
      if (end < 0) throw fail('unclosed [');
      const inner = path.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') return { kind: 'wildcard' };
      if (/^\d+$/.test(inner)) return { kind: 'index', index: Number(inner) };
      const quoted = /^'(.*)'$|^"(.*)"$/s.exec(inner);
      if (quoted) return { kind: 'name', name: quoted[1] ?? quoted[2] ?? '' };
      throw fail(`bad bracket [${inner}]`);
    }
    if (path[i] === '*') {
      i++;
      return { kind: 'wildcard' };
    }
    const m = /^[^.[\]]+/.exec(path.slice(i));
    if (!m) throw fail(`expected a name at position ${i}`);
    i += m[0].length;
    return { kind: 'name', name: m[0] };
  };
  while (i < path.length) {
    if (path.startsWith('..', i)) {
      i += 2;
      out.push({ kind: 'descendant', inner: readSimple() });
    } else if (path[i] === '.') {
      i++;
      out.push(readSimple());
    } else if (path[i] === '[') {
      out.push(readSimple());
    } else {
      throw fail(`unexpected ${JSON.stringify(path[i])} at position ${i}`);
    }
  }
  return out;
}

function segmentMatches(seg: Exclude<PathSegment, { kind: 'descendant' }>, step: string | number): boolean {
  if (seg.kind === 'wildcard') return true;
  if (seg.kind === 'index') return step === seg.index;
  return step === seg.name;
}

/** True when the concrete path (property names and array indexes from the root) matches. */
export function jsonPathMatches(path: JsonPath, concrete: ReadonlyArray<string | number>, i = 0, j = 0): boolean {
  if (i === path.length) return j === concrete.length;
  const seg = path[i]!;
  if (seg.kind === 'descendant') {
    for (let k = j; k < concrete.length; k++) {
      if (segmentMatches(seg.inner, concrete[k]!) && jsonPathMatches(path, concrete, i + 1, k + 1)) return true;
    }
    return false;
  }
  return j < concrete.length && segmentMatches(seg, concrete[j]!) && jsonPathMatches(path, concrete, i + 1, j + 1);
}

export function compileRedactRules(
  rules: RedactRule | readonly RedactRule[] | undefined,
  failure: RedactRuleFailure = keyspaceFailure,
  name = 'redact',
): CompiledRule[] {
  if (rules === undefined) return [];
  const list: readonly RedactRule[] = Array.isArray(rules) ? rules : [rules as RedactRule];
  return list.map((rule, n) => {
    const option = `${name}[${n}]`;
    if (typeof rule === 'string') {
      if (rule.startsWith('$')) return { whole: false, path: parseJsonPath(rule, option, failure) };
      return { whole: true, key: keyTest(option, rule, failure) };
    }
    if (rule instanceof RegExp) return { whole: false, any: rule };
    if (typeof rule === 'object' && rule !== null) {
      const { key, field, path } = rule as { key?: unknown; field?: unknown; path?: unknown };
      const unknown = findUnknownKey(rule, RULE_KEYS);
      if (unknown) throw failure(`${option}.${unknown.key}`, unknown.problem);
      if (key === undefined && field === undefined && path === undefined) {
        throw failure(option, 'give at least one of key, field, path');
      }
      const compiled: CompiledRule = { whole: field === undefined && path === undefined };
      if (key !== undefined) compiled.key = keyTest(`${option}.key`, key as string | RegExp, failure);
      if (field !== undefined) {
        if (field instanceof RegExp) compiled.field = (f) => testRegExp(field, plain(f));
        else if (typeof field === 'string') compiled.field = (f) => plain(f) === field;
        else throw failure(`${option}.field`, 'must be a field name or a RegExp');
      }
      if (path !== undefined) {
        if (typeof path !== 'string') throw failure(`${option}.path`, 'must be a JSON path string');
        compiled.path = parseJsonPath(path, `${option}.path`, failure);
      }
      return compiled;
    }
    throw failure(option, 'must be a key glob, a JSON path ($...), a RegExp or { key, field, path }');
  });
}

type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

/**
 * Applies the rules to one captured entry, in place. Secrets never leave capture: a redacted value is
 * replaced before the snapshot exists.
 */
export function redactEntry(entry: KeyEntry, rules: readonly CompiledRule[]): void {
  if (rules.length === 0) return;
  const forKey = rules.filter((r) => !r.key || r.key(entry.key));
  if (forKey.length === 0) return;
  if (forKey.some((r) => r.whole) || forKey.some((r) => r.any && testRegExp(r.any, plain(entry.key)))) {
    redactWhole(entry);
    return;
  }
  const fieldTests = forKey.filter((r) => r.field || r.any);
  const isSecretField = (f: RedisText) =>
    fieldTests.some((r) => (r.field ? r.field(f) : testRegExp(r.any!, plain(f))));
  const paths = forKey.flatMap((r) => (r.path ? [r.path] : []));
  const names = forKey.flatMap((r) => (r.any ? [r.any] : []));
  const redactJsonText = (text: RedisText): RedisText =>
    paths.length === 0 && names.length === 0 ? text : redactJson(text, paths, names);

  switch (entry.type) {
    case 'string':
      entry.value = redactJsonText(entry.value);
      break;
    case 'hash':
      entry.value = entry.value.map(([f, v]) => [f, isSecretField(f) ? REDACTED : redactJsonText(v)]);
      break;
    case 'list':
      entry.value = entry.value.map(redactJsonText);
      break;
    case 'stream':
      entry.value = entry.value.map(({ id, fields }) => ({
        id,
        fields: fields.map(([f, v]): [RedisText, RedisText] => [f, isSecretField(f) ? REDACTED : redactJsonText(v)]),
      }));
      break;
    default:
      // set and zset members are identities, not fields: only whole-key rules apply to them.
      break;
  }
}

function redactWhole(entry: KeyEntry): void {
  entry.redacted = true;
  if (entry.type === 'string') entry.value = REDACTED;
  else entry.value = [];
}

/** Redacts inside a JSON object/array text; returns the text unchanged when nothing matched. */
function redactJson(text: RedisText, paths: readonly JsonPath[], names: readonly RegExp[], secrets?: SecretSet): RedisText {
  if (typeof text !== 'string' || !looksLikeJson(text)) return text;
  let parsed: JsonValue;
  try {
    parsed = JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
  const result = redactTree(parsed, paths, names, secrets);
  return result.changed ? JSON.stringify(result.value) : text;
}

/** Replaces the places `paths` and `names` pick in a JSON-like value; `changed` says whether any matched. */
function redactTree(
  root: unknown,
  paths: readonly JsonPath[],
  names: readonly RegExp[],
  secrets?: SecretSet,
): { value: unknown; changed: boolean } {
  let changed = false;
  const hide = (value: unknown): string => {
    changed = true;
    secrets?.add(value);
    return REDACTED;
  };
  const walk = (value: unknown, at: Array<string | number>): unknown => {
    if (at.length > 0 && paths.some((p) => jsonPathMatches(p, at))) return hide(value);
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...at, i]));
    if (value !== null && typeof value === 'object' && !Buffer.isBuffer(value) && !(value instanceof Date)) {
      // A null prototype, so that an own "__proto__" property stays a plain property.
      const out = Object.create(null) as Record<string, unknown>;
      for (const [k, v] of Object.entries(value)) {
        out[k] = names.some((re) => testRegExp(re, k)) ? hide(v) : walk(v, [...at, k]);
      }
      return out;
    }
    return value;
  };
  const value = walk(root, []);
  return { value: changed ? value : root, changed };
}

/**
 * The values a {@link Redaction} replaced, so that the same secret is also kept out of free text (an actor's
 * returned value, an error message, a JSON parse error quoting the value). Only texts of 4 characters or
 * more are kept: replacing every `1` or `OK` in a report would make it unreadable.
 */
export class SecretSet {
  readonly #texts = new Set<string>();

  add(value: unknown): void {
    if (typeof value === 'string' || Buffer.isBuffer(value)) {
      const text = typeof value === 'string' ? value : value.toString('utf8');
      if (text.trim().length >= 4) this.#texts.add(text);
      if (looksLikeJson(text)) {
        try {
          this.add(JSON.parse(text));
        } catch {
          /* not JSON after all: the whole text is the secret */
        }
      }
    } else if (typeof value === 'number' || typeof value === 'bigint') {
      this.add(String(value));
    } else if (Array.isArray(value)) {
      value.forEach((v) => this.add(v));
    } else if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
      Object.values(value).forEach((v) => this.add(v));
    }
  }

  get size(): number {
    return this.#texts.size;
  }

  /** `text` with every known secret replaced by the marker (longest first, so a secret inside another goes too). */
  scrub(text: string): string {
    if (this.#texts.size === 0) return text;
    let out = text;
    for (const secret of [...this.#texts].sort((a, b) => b.length - a.length)) {
      if (out.includes(secret)) out = out.split(secret).join(REDACTED);
      // The same text as a JSON string literal (a quote or backslash in it is escaped when printed).
      const quoted = JSON.stringify(secret).slice(1, -1);
      if (quoted !== secret && out.includes(quoted)) out = out.split(quoted).join(REDACTED);
    }
    return out;
  }

  /** A copy of a JS value with every string holding a known secret scrubbed (for printing it). */
  scrubValue(value: unknown): unknown {
    if (this.#texts.size === 0) return value;
    const walk = (v: unknown, depth: number): unknown => {
      if (typeof v === 'string') return this.scrub(v);
      if (Buffer.isBuffer(v)) {
        const text = v.toString('utf8');
        return this.scrub(text) === text ? v : REDACTED;
      }
      if (typeof v === 'number' || typeof v === 'bigint') return this.scrub(String(v)) === String(v) ? v : REDACTED;
      if (depth > 8 || v === null || typeof v !== 'object' || v instanceof Date || v instanceof Error) return v;
      if (Array.isArray(v)) return v.map((x) => walk(x, depth + 1));
      if (v instanceof Map) return new Map([...v].map(([k, x]) => [walk(k, depth + 1), walk(x, depth + 1)]));
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, depth + 1);
      return out;
    };
    return walk(value, 0);
  }
}

/**
 * One set of `redact` rules applied wherever a value is printed: the keyspace capture (whole entries), the
 * consistency matcher's two sides, the race report's steps. Rules keep the meaning they have for a capture
 * (docs/configuration.md#redact); the values they replaced are remembered in `secrets`.
 */
export class Redaction {
  readonly rules: readonly RedactRule[];
  readonly compiled: readonly CompiledRule[];
  readonly secrets = new SecretSet();

  constructor(rules: readonly RedactRule[], failure?: RedactRuleFailure, name?: string) {
    this.rules = rules;
    this.compiled = compileRedactRules(rules, failure, name);
  }

  get active(): boolean {
    return this.compiled.length > 0;
  }

  /** The rules that apply to `key` (all key-less rules when `key` is undefined: a value with no key). */
  #forKey(key: RedisText | undefined): CompiledRule[] {
    return this.compiled.filter((r) => (key === undefined ? !r.key : !r.key || r.key(key)));
  }

  /** True when the whole value of `key` is secret (a key glob, `{ key }` alone, or a RegExp matching the name). */
  isWhole(key: RedisText): boolean {
    return this.#forKey(key).some((r) => r.whole || (r.any !== undefined && testRegExp(r.any, plain(key))));
  }

  /** True when the hash or stream field `field` of `key` is secret. */
  isSecretField(key: RedisText | undefined, field: RedisText): boolean {
    return this.#forKey(key).some((r) => (r.field ? r.field(field) : r.any !== undefined && testRegExp(r.any, plain(field))));
  }

  /**
   * A value that belongs to `key` (or to no key) with the JSON paths and property names redacted: a JS value
   * (a decoded JSON value, a row) or a text holding a JSON object or array. Not the whole-value rules: ask
   * {@link isWhole} first.
   */
  value(key: RedisText | undefined, value: unknown): unknown {
    const rules = this.#forKey(key);
    const paths = rules.flatMap((r) => (r.path ? [r.path] : []));
    const names = rules.flatMap((r) => (r.any ? [r.any] : []));
    if (paths.length === 0 && names.length === 0) return value;
    if (typeof value === 'string' || Buffer.isBuffer(value)) return redactJson(value, paths, names, this.secrets);
    if (Array.isArray(value) || (value !== null && typeof value === 'object')) {
      // Text items inside a decoded value (a list of JSON strings) are JSON values of their own.
      const tree = redactTree(value, paths, names, this.secrets);
      const inner = (v: unknown): unknown =>
        typeof v === 'string' ? redactJson(v, paths, names, this.secrets) : Array.isArray(v) ? v.map(inner) : v;
      return Array.isArray(tree.value) ? tree.value.map(inner) : tree.value;
    }
    return value;
  }

  /** Replaces a whole value by the marker, remembering it. */
  hide(value: unknown): string {
    this.secrets.add(value);
    return REDACTED;
  }

  /**
   * A decoded value of one key as the consistency matcher prints it (`displayValue`: a JSON value, a hash as
   * an object of fields, a list or set as an array, a sorted set as `{ member, score }` objects).
   */
  display(key: RedisText, type: string, value: unknown): unknown {
    if (value === undefined) return value;
    if (this.isWhole(key)) return this.hide(value);
    if (type === 'hash' && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const out: Record<string, unknown> = {};
      for (const [f, v] of Object.entries(value)) out[f] = this.isSecretField(key, f) ? this.hide(v) : this.value(key, v);
      return out;
    }
    if (type === 'set' || type === 'zset') return value; // members are identities: only whole-key rules apply
    return this.value(key, value);
  }
}

/** A rule as it travels from globalSetup to the workers (JSON): a RegExp as `{ regexp, flags }`. */
export type SerializedRedactRule =
  | string
  | { regexp: string; flags: string }
  | { key?: string | { regexp: string; flags: string }; field?: string | { regexp: string; flags: string }; path?: string };

function encodeRegExp<T>(v: T | RegExp): T | { regexp: string; flags: string } {
  return v instanceof RegExp ? { regexp: v.source, flags: v.flags } : v;
}

function decodeRegExp(v: unknown): unknown {
  return v !== null && typeof v === 'object' && typeof (v as { regexp?: unknown }).regexp === 'string'
    ? new RegExp((v as { regexp: string }).regexp, (v as { flags?: string }).flags ?? '')
    : v;
}

export function serializeRedactRules(rules: readonly RedactRule[]): SerializedRedactRule[] {
  return rules.map((rule) => {
    if (typeof rule === 'string') return rule;
    if (rule instanceof RegExp) return encodeRegExp(rule) as { regexp: string; flags: string };
    const out: { key?: string | { regexp: string; flags: string }; field?: string | { regexp: string; flags: string }; path?: string } = {};
    if (rule.key !== undefined) out.key = encodeRegExp(rule.key);
    if (rule.field !== undefined) out.field = encodeRegExp(rule.field);
    if (rule.path !== undefined) out.path = rule.path;
    return out;
  });
}

export function deserializeRedactRules(rules: readonly SerializedRedactRule[]): RedactRule[] {
  return rules.map((rule): RedactRule => {
    if (typeof rule === 'string') return rule;
    if ('regexp' in rule) return decodeRegExp(rule) as RegExp;
    const out: { key?: string | RegExp; field?: string | RegExp; path?: string } = {};
    if (rule.key !== undefined) out.key = decodeRegExp(rule.key) as string | RegExp;
    if (rule.field !== undefined) out.field = decodeRegExp(rule.field) as string | RegExp;
    if (rule.path !== undefined) out.path = rule.path;
    return out;
  });
}

/** `redact` given once or as a list, as a list. */
export function redactList(rules: RedactRule | readonly RedactRule[] | undefined): RedactRule[] {
  return rules === undefined ? [] : Array.isArray(rules) ? [...(rules as readonly RedactRule[])] : [rules as RedactRule];
}
