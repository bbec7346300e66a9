import { CacheCodecError } from '../errors';
import { findUnknownKey, optionKeys } from '../optionKeys';

/**
 * The stored formats of cache libraries: where a library puts a logical key (`user:1`) in Redis and how it
 * wraps the value. A contract takes a codec (`defineCache({ key, codec: keyvCodec() })`) to compare the value
 * inside the wrapper; the snapshot serializer prints the wrappers' clock fields stably.
 */

export const CODEC_BRAND = Symbol.for('jest-cache-consistency.codec');

/** What a codec reads from a stored value. */
export type CodecDecoded =
  /** The logical value the library returns for the key. */
  | { readonly kind: 'value'; readonly value: unknown }
  /** The library no longer returns it: its own expiry (not the Redis TTL) has passed, or a tag invalidated it. */
  | { readonly kind: 'expired'; readonly expiredAtMs: number }
  /** Not a value this library wrote. */
  | { readonly kind: 'invalid'; readonly problem: string };

/** A cache library's stored format. Made by {@link keyvCodec} or {@link bentocacheCodec}. */
export interface CacheCodec {
  readonly [CODEC_BRAND]: true;
  /** `'keyv'` or `'bentocache'`. */
  readonly library: string;
  /** What the library puts before a logical key: `keyv::keyv:` for `user:1` stored as `keyv::keyv:user:1`. */
  readonly keyPrefix: string;
  /**
   * Reads a stored value; `nowMs` decides the library's own expiry; `stored(key)` is another key's string
   * value in the same capture (BentoCache's tag invalidations), `undefined` when absent.
   */
  decode(text: string, nowMs: number, stored?: (key: string) => string | undefined): CodecDecoded;
}

export function isCacheCodec(value: unknown): value is CacheCodec {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[CODEC_BRAND] === true;
}

export interface KeyvCodecOptions {
  /** Keyv's `namespace` (the one given to `new Keyv({ namespace })`, or cache-manager's Keyv). Default `'keyv'`. */
  namespace?: string;
  /** Keyv's `useKeyPrefix`: `false` when Keyv was told not to add `namespace:` to each key. Default `true`. */
  useKeyPrefix?: boolean;
  /** @keyv/redis's `keyPrefixSeparator`, between the store's namespace and the key. Default `'::'`. */
  keyPrefixSeparator?: string;
}

export interface BentocacheCodecOptions {
  /** The Redis driver's `prefix`. Default `'bentocache'`. */
  prefix?: string;
  /** A `bento.namespace(name)`: its keys are stored under `prefix:name:`. Default: none. */
  namespace?: string;
}

const KEYV_KEYS = optionKeys<KeyvCodecOptions>({ namespace: true, useKeyPrefix: true, keyPrefixSeparator: true });
const BENTO_KEYS = optionKeys<BentocacheCodecOptions>({ prefix: true, namespace: true });

function checkOptions(codec: string, options: unknown, known: readonly string[]): Record<string, unknown> {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) throw new CacheCodecError(codec, 'options', 'must be an object');
  const unknown = findUnknownKey(options, known);
  if (unknown) throw new CacheCodecError(codec, unknown.key, unknown.problem);
  return options as Record<string, unknown>;
}

function text(codec: string, options: Record<string, unknown>, name: string, fallback: string, allowEmpty = false): string {
  const v = options[name];
  if (v === undefined) return fallback;
  if (typeof v !== 'string' || (!allowEmpty && v === '')) throw new CacheCodecError(codec, name, `must be a${allowEmpty ? '' : ' non-empty'} string`);
  return v;
}

function parseObject(raw: string, reviver?: (key: string, value: unknown) => unknown): Record<string, unknown> | string {
  let value: unknown;
  try {
    value = JSON.parse(raw, reviver);
  } catch (err) {
    return `not valid JSON (${(err as Error).message})`;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  return value as Record<string, unknown>;
}

function onlyKeys(obj: Record<string, unknown>, allowed: readonly string[]): string | undefined {
  const extra = Object.keys(obj).find((k) => !allowed.includes(k));
  return extra === undefined ? undefined : `unexpected field "${extra}" (the envelope has ${allowed.join(', ')})`;
}

/** @keyv/serialize's reading of strings: `:base64:...` is a Buffer, a leading `:` is an escaped `:`. */
function keyvReviver(_key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (value.startsWith(':base64:')) return Buffer.from(value.slice(8), 'base64');
  return value.startsWith(':') ? value.slice(1) : value;
}

/**
 * Keyv (v5, with @keyv/redis; also cache-manager 7, which stores through Keyv): `new Keyv({ store: new
 * KeyvRedis(url), namespace: 'users' })` stores `set('1', row, ttl)` as `users::users:1` holding
 * `{"value":row,"expires":<epoch ms>}` (no `expires` without a TTL). An entry past `expires` is one Keyv no
 * longer returns: the comparison skips it.
 *
 * @example
 * const userById = defineCache({ key: 'user:{id}', table: 'users', codec: keyvCodec({ namespace: 'users' }) });
 */
export function keyvCodec(options?: KeyvCodecOptions): CacheCodec {
  const o = checkOptions('keyvCodec()', options, KEYV_KEYS);
  const namespace = text('keyvCodec()', o, 'namespace', 'keyv');
  const separator = text('keyvCodec()', o, 'keyPrefixSeparator', '::');
  if (o.useKeyPrefix !== undefined && typeof o.useKeyPrefix !== 'boolean') throw new CacheCodecError('keyvCodec()', 'useKeyPrefix', 'must be true or false');
  const keyPrefix = `${namespace}${separator}${o.useKeyPrefix === false ? '' : `${namespace}:`}`;
  return Object.freeze({
    [CODEC_BRAND]: true as const,
    library: 'keyv',
    keyPrefix,
    decode(raw: string, nowMs: number): CodecDecoded {
      const obj = parseObject(raw, keyvReviver);
      if (typeof obj === 'string') return { kind: 'invalid', problem: `a Keyv value is {"value":...,"expires":ms}: ${obj}` };
      const extra = onlyKeys(obj, ['value', 'expires']);
      if (extra) return { kind: 'invalid', problem: `a Keyv value is {"value":...,"expires":ms}: ${extra}` };
      if (!('value' in obj)) return { kind: 'invalid', problem: 'a Keyv value is {"value":...,"expires":ms}: no "value"' };
      const expires = obj.expires;
      if (expires !== undefined && expires !== null && typeof expires !== 'number') return { kind: 'invalid', problem: '"expires" is not a number' };
      if (typeof expires === 'number' && expires <= nowMs) return { kind: 'expired', expiredAtMs: expires };
      return { kind: 'value', value: obj.value };
    },
  });
}

/**
 * BentoCache (v1) with its Redis driver: `bento.set({ key: 'user:1', value: row, ttl: '1m' })` stores
 * `bentocache:user:1` holding `{"value":row,"logicalExpiration":<epoch ms>,"createdAt":<epoch ms>,"tags":[...]}`.
 * An entry past `logicalExpiration` is only served stale (grace period), and one created before a `deleteByTag`
 * of one of its tags is not served at all: the comparison skips both.
 *
 * @example
 * const userById = defineCache({ key: 'user:{id}', table: 'users', codec: bentocacheCodec() });
 */
export function bentocacheCodec(options?: BentocacheCodecOptions): CacheCodec {
  const o = checkOptions('bentocacheCodec()', options, BENTO_KEYS);
  const prefix = text('bentocacheCodec()', o, 'prefix', 'bentocache', true);
  const namespace = text('bentocacheCodec()', o, 'namespace', '');
  const keyPrefix = [prefix, namespace].filter(Boolean).map((p) => `${p}:`).join('');
  return Object.freeze({
    [CODEC_BRAND]: true as const,
    library: 'bentocache',
    keyPrefix,
    decode(raw: string, nowMs: number, stored?: (key: string) => string | undefined): CodecDecoded {
      const shape = 'a BentoCache value is {"value":...,"logicalExpiration":ms,"createdAt":ms,"tags":[...]}';
      const obj = parseObject(raw);
      if (typeof obj === 'string') return { kind: 'invalid', problem: `${shape}: ${obj}` };
      const extra = onlyKeys(obj, BENTO_FIELDS);
      if (extra) return { kind: 'invalid', problem: `${shape}: ${extra}` };
      if (!('value' in obj)) return { kind: 'invalid', problem: `${shape}: no "value"` };
      // No logicalExpiration: written without a TTL (ttl: null), it never expires.
      const expiry = obj.logicalExpiration;
      if (expiry !== undefined && typeof expiry !== 'number') return { kind: 'invalid', problem: `${shape}: "logicalExpiration" is not a number` };
      if (typeof expiry === 'number' && expiry <= nowMs) return { kind: 'expired', expiredAtMs: expiry };
      // deleteByTag writes `<prefix>:___bc:t:<tag>` = the time; BentoCache no longer returns an entry created
      // at or before it (it expires it on the next read).
      const tags = Array.isArray(obj.tags) ? obj.tags : [];
      for (const tag of tags) {
        const invalidation = stored?.(`${keyPrefix}${BENTO_TAG_PREFIX}${String(tag)}`);
        const at = invalidation === undefined ? undefined : parseObject(invalidation);
        const time = typeof at === 'object' ? at.value : undefined;
        if (typeof time === 'number' && typeof obj.createdAt === 'number' && obj.createdAt <= time) return { kind: 'expired', expiredAtMs: time };
      }
      return { kind: 'value', value: obj.value };
    },
  });
}

const BENTO_TAG_PREFIX = '___bc:t:';
const BENTO_FIELDS = ['value', 'logicalExpiration', 'createdAt', 'tags'];

/** A time in epoch milliseconds (after 2001-09-09), the kind a library writes with `Date.now()`. */
function isClockMs(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 1e12;
}

/** The clock fields of a library's envelope, by what each means. */
export interface EnvelopeClock {
  /** Fields holding when the value expires for the library (`expires`, `logicalExpiration`). */
  readonly expiry: readonly string[];
  /** Fields holding when it was written (`createdAt`). */
  readonly written: readonly string[];
}

/**
 * The clock fields of a stored value when it has the exact shape of a Keyv or BentoCache envelope (the
 * snapshot serializer prints them stably), else undefined.
 */
export function envelopeClock(value: object): EnvelopeClock | undefined {
  if (Array.isArray(value)) return undefined;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (!keys.includes('value')) return undefined;
  // Keyv: {"value":...,"expires":ms}
  if (keys.length === 2 && isClockMs(obj.expires)) return { expiry: ['expires'], written: [] };
  // BentoCache: {"value":...,"logicalExpiration":ms,"createdAt":ms[,"tags":[...]]}
  if (
    keys.every((k) => BENTO_FIELDS.includes(k)) &&
    (obj.logicalExpiration === undefined || isClockMs(obj.logicalExpiration)) &&
    isClockMs(obj.createdAt) &&
    (obj.tags === undefined || Array.isArray(obj.tags))
  ) {
    // A tag invalidation (`<prefix>:___bc:t:<tag>`) holds the time of the invalidation as its value: BentoCache
    // takes it and the record's createdAt from two clock reads, a millisecond or more apart on a busy machine.
    const isWriteTime = isClockMs(obj.value) && Math.abs((obj.value as number) - (obj.createdAt as number)) <= 60_000;
    const written = isWriteTime ? ['createdAt', 'value'] : ['createdAt'];
    return { expiry: obj.logicalExpiration === undefined ? [] : ['logicalExpiration'], written };
  }
  return undefined;
}
