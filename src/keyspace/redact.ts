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

function keyTest(option: string, value: string | RegExp): (key: RedisText) => boolean {
  if (value instanceof RegExp) return (k) => testRegExp(value, plain(k));
  if (typeof value !== 'string' || value === '') {
    throw new InvalidKeyspaceOptionError(option, 'must be a key glob (a non-empty string) or a RegExp');
  }
  const re = globToRegExp(value);
  return (k) => re.test(latin1(k));
}

/** Parses `$`, `.name`, `['name']`, `[0]`, `[*]`, `.*`, `..name`, `..*`, `..[0]`. */
export function parseJsonPath(path: string, option = 'redact'): JsonPath {
  const fail = (why: string) =>
    new InvalidKeyspaceOptionError(option, `${JSON.stringify(path)} is not a JSON path (${why}); write e.g. '$.user.password', '$..token', "$['a b'][0]"`);
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

export function compileRedactRules(rules: RedactRule | readonly RedactRule[] | undefined): CompiledRule[] {
  if (rules === undefined) return [];
  const list: readonly RedactRule[] = Array.isArray(rules) ? rules : [rules as RedactRule];
  return list.map((rule, n) => {
    const option = `redact[${n}]`;
    if (typeof rule === 'string') {
      if (rule.startsWith('$')) return { whole: false, path: parseJsonPath(rule, option) };
      return { whole: true, key: keyTest(option, rule) };
    }
    if (rule instanceof RegExp) return { whole: false, any: rule };
    if (typeof rule === 'object' && rule !== null) {
      const { key, field, path } = rule as { key?: unknown; field?: unknown; path?: unknown };
      const unknown = findUnknownKey(rule, RULE_KEYS);
      if (unknown) throw new InvalidKeyspaceOptionError(`${option}.${unknown.key}`, unknown.problem);
      if (key === undefined && field === undefined && path === undefined) {
        throw new InvalidKeyspaceOptionError(option, 'give at least one of key, field, path');
      }
      const compiled: CompiledRule = { whole: field === undefined && path === undefined };
      if (key !== undefined) compiled.key = keyTest(`${option}.key`, key as string | RegExp);
      if (field !== undefined) {
        if (field instanceof RegExp) compiled.field = (f) => testRegExp(field, plain(f));
        else if (typeof field === 'string') compiled.field = (f) => plain(f) === field;
        else throw new InvalidKeyspaceOptionError(`${option}.field`, 'must be a field name or a RegExp');
      }
      if (path !== undefined) {
        if (typeof path !== 'string') throw new InvalidKeyspaceOptionError(`${option}.path`, 'must be a JSON path string');
        compiled.path = parseJsonPath(path, `${option}.path`);
      }
      return compiled;
    }
    throw new InvalidKeyspaceOptionError(option, 'must be a key glob, a JSON path ($...), a RegExp or { key, field, path }');
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
function redactJson(text: RedisText, paths: readonly JsonPath[], names: readonly RegExp[]): RedisText {
  if (typeof text !== 'string' || !looksLikeJson(text)) return text;
  let parsed: JsonValue;
  try {
    parsed = JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
  let changed = false;
  const walk = (value: JsonValue, at: Array<string | number>): JsonValue => {
    if (at.length > 0 && paths.some((p) => jsonPathMatches(p, at))) {
      changed = true;
      return REDACTED;
    }
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...at, i]));
    if (value !== null && typeof value === 'object') {
      // A null prototype, so that an own "__proto__" property stays a plain property.
      const out = Object.create(null) as { [k: string]: JsonValue };
      for (const [k, v] of Object.entries(value)) {
        if (names.some((re) => testRegExp(re, k))) {
          changed = true;
          out[k] = REDACTED;
        } else {
          out[k] = walk(v, [...at, k]);
        }
      }
      return out;
    }
    return value;
  };
  const result = walk(parsed, []);
  return changed ? JSON.stringify(result) : text;
}
