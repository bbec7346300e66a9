import type { Row } from '../db/types';
import type { KeyEntry, RedisText } from '../keyspace/types';

/**
 * The value conversions of the comparison: how a row becomes what a cache would store, how a cached entry
 * is decoded, and equality over the result. Pure functions, no I/O.
 */

/** A row or value as `JSON.stringify` then `JSON.parse` would give it back (Dates become ISO strings, ...). */
export function jsonNormalize(value: unknown): unknown {
  // Fast path, the common row: a plain object of strings, finite numbers, booleans and nulls.
  if (value !== null && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    const out: Record<string, unknown> = {};
    let simple = true;
    for (const key in value) {
      const v = (value as Record<string, unknown>)[key];
      if (v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v) && !Object.is(v, -0))) out[key] = v;
      else if (v !== undefined) {
        simple = false;
        break;
      }
    }
    if (simple) return out;
  }
  const text = JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v));
  return text === undefined ? undefined : JSON.parse(text);
}

/**
 * How one column value is stored as Redis text (a hash field, a string, a member): strings as they are,
 * numbers/booleans/bigints by `String`, Dates as ISO 8601, Buffers as their bytes, objects as JSON.
 * `null`/`undefined` give `undefined` (a hash field that is not set).
 */
export function columnText(value: unknown): RedisText | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === 'object') return JSON.stringify(jsonNormalize(value));
  return String(value);
}

/** Text for display and comparison: valid UTF-8 Buffers are equal to the same string. */
export function sameText(a: RedisText, b: RedisText): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a === b;
  const ab = typeof a === 'string' ? Buffer.from(a) : a;
  const bb = typeof b === 'string' ? Buffer.from(b) : b;
  return ab.equals(bb);
}

/** Byte-order comparison of two texts (the order Redis sorts in). */
export function compareText(a: RedisText, b: RedisText): number {
  if (typeof a === 'string' && typeof b === 'string') {
    // UTF-16 order equals UTF-8 byte order below the surrogates (U+D800): decide there when possible.
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++) {
      const x = a.charCodeAt(i);
      const y = b.charCodeAt(i);
      if (x !== y) return x < 0xd800 && y < 0xd800 ? x - y : Buffer.compare(Buffer.from(a.slice(i)), Buffer.from(b.slice(i)));
    }
    return a.length - b.length;
  }
  return Buffer.compare(typeof a === 'string' ? Buffer.from(a) : a, typeof b === 'string' ? Buffer.from(b) : b);
}

/** A key, field or member as display text: the string itself, or the bytes escaped when not valid UTF-8. */
export function printableText(text: RedisText): string {
  if (typeof text === 'string') return text;
  let out = '';
  for (const byte of text) out += byte >= 0x20 && byte < 0x7f && byte !== 0x5c ? String.fromCharCode(byte) : `\\x${byte.toString(16).padStart(2, '0')}`;
  return out;
}

/** Structural equality over decoded values: plain objects (key order ignored), arrays, Buffers, primitives. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== typeof b || a === null || b === null || typeof a !== 'object') {
    // A Buffer and a string holding the same UTF-8 bytes are the same text.
    if ((typeof a === 'string' && Buffer.isBuffer(b)) || (Buffer.isBuffer(a) && typeof b === 'string')) return sameText(a as RedisText, b as RedisText);
    return false;
  }
  if (Buffer.isBuffer(a) || Buffer.isBuffer(b)) return Buffer.isBuffer(a) && Buffer.isBuffer(b) && a.equals(b);
  if (a instanceof Date || b instanceof Date) return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ao = a as Record<string, unknown>;
  const bo = b as Record<string, unknown>;
  const ak = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bk = Object.keys(bo).filter((k) => bo[k] !== undefined);
  return ak.length === bk.length && ak.every((k) => Object.prototype.hasOwnProperty.call(bo, k) && deepEqual(ao[k], bo[k]));
}

/** The columns `fields` names, in that order (missing columns are left out, as JSON.stringify would). */
export function project(row: Row, fields: readonly string[] | undefined): Row {
  if (!fields) return row;
  const out: Row = {};
  for (const f of fields) if (Object.prototype.hasOwnProperty.call(row, f)) out[f] = row[f];
  return out;
}

/** A hash (field -> text) from a row: the form `HSET key ...row` stores when nulls are left out. */
export function rowAsHash(row: Row): Record<string, RedisText> {
  const out: Record<string, RedisText> = {};
  for (const [field, value] of Object.entries(row)) {
    const text = columnText(value);
    if (text !== undefined) out[field] = text;
  }
  return out;
}

/** The entry's hash as an object (fields that are not UTF-8 are shown escaped). */
export function entryHash(entry: Extract<KeyEntry, { type: 'hash' }>): Record<string, RedisText> {
  const out: Record<string, RedisText> = {};
  for (const [field, value] of entry.value) out[printableText(field)] = value;
  return out;
}

/** Text as a string when it is one, for decoders that need a string (JSON). */
export function asString(text: RedisText): string {
  return typeof text === 'string' ? text : text.toString('utf8');
}
