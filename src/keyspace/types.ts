/**
 * The data model of a keyspace capture, shared by the serializer (keyspace/), the comparison
 * (consistency/) and the race timeline (race/).
 *
 * Text: every key, field, member and value is a `string` when its bytes are valid UTF-8, and a `Buffer`
 * otherwise (binary safety: nothing is ever decoded lossily).
 */
export type RedisText = string | Buffer;

export type KeyType = 'string' | 'hash' | 'list' | 'set' | 'zset' | 'stream';

export type KeyValue =
  | { type: 'string'; value: RedisText }
  /** Sorted by field (byte order). */
  | { type: 'hash'; value: Array<[field: RedisText, value: RedisText]> }
  /** In list order. */
  | { type: 'list'; value: RedisText[] }
  /** Sorted (byte order). */
  | { type: 'set'; value: RedisText[] }
  /** Sorted by score, then member. */
  | { type: 'zset'; value: Array<{ member: RedisText; score: number }> }
  /** In id order. */
  | { type: 'stream'; value: Array<{ id: string; fields: Array<[field: RedisText, value: RedisText]> }> };

export type KeyEntry = KeyValue & {
  key: RedisText;
  /** Remaining time to live in ms when captured, or null for a key without expiry. */
  ttlMs: number | null;
  /**
   * Set when a redaction rule covered the whole value. The value is then empty (`'[REDACTED]'` for a
   * string, `[]` for every other type) and prints as `[REDACTED]`.
   */
  redacted?: true;
};

/** Brand recognised by the snapshot serializer (a registered symbol, so it survives module duplication). */
export const KEYSPACE_BRAND = Symbol.for('jest-cache-consistency.keyspace');

/**
 * How TTLs print (the captured `ttlMs` is always exact; this is about the printed form):
 * - `'buckets'` (default): `expires in ≤ 1m`, with the default bucket bounds 1s 5s 10s 30s 1m 5m 10m 30m
 *   1h 2h 6h 12h 1d 7d 30d 365d, so `EX 60` prints the same on a fast and a slow machine;
 * - `{ buckets: [ms, ...] }`: your own upper bounds, in milliseconds;
 * - `'seconds'`: `expires in 60s` (rounded up to whole seconds);
 * - `'exact'`: `expires in 59998ms` (changes from run to run: for one-off debugging);
 * - `'presence'`: `expires`, without a time;
 * - `'hide'`: nothing at all about expiry.
 */
export type TtlRendering = 'buckets' | 'seconds' | 'exact' | 'presence' | 'hide' | { buckets: readonly number[] };

/** How bytes that are not valid UTF-8 print: `b"\xff"` (escape, default), `hex"ff"`, `base64"/w=="`. */
export type BinaryRendering = 'escape' | 'hex' | 'base64';

/**
 * How stream entry IDs print:
 * - `'auto'` (default): IDs made from the clock (`XADD key * ...`, a time part after the year 2001) print as
 *   their position (`#1`, `#2`, ...) so the snapshot does not change with the time of the run; IDs you
 *   chose (`1-0`, `42-1`) print as they are;
 * - `'exact'`: every ID as it is; `'index'`: every ID as its position.
 */
export type StreamIdRendering = 'auto' | 'exact' | 'index';

/**
 * How the clock fields of a cache library's stored value print (Keyv's `{"value":...,"expires":ms}`,
 * BentoCache's `{"value":...,"logicalExpiration":ms,"createdAt":ms,"tags":[...]}`):
 * - `'stable'` (default): an expiry prints like the key's TTL, relative to the capture (`<expires in ≤ 1m>`,
 *   with the `ttl` rendering), a write time as `<timestamp>`; the snapshot is the same on every run;
 * - `'exact'`: the numbers as stored (they change on every run: for one-off debugging).
 */
export type CacheEnvelopeRendering = 'stable' | 'exact';

/** Printing choices a capture carries to the serializer (chosen with captureKeyspace's options). */
export interface KeyspacePrintOptions {
  ttl: TtlRendering;
  /** Strings holding a JSON object or array print as structured values. */
  json: boolean;
  binary: BinaryRendering;
  streamIds: StreamIdRendering;
  cacheEnvelopes: CacheEnvelopeRendering;
}

/** A key of a type this library does not read (a module type such as ReJSON-RL): listed, not read. */
export interface OtherTypeEntry {
  key: RedisText;
  type: string;
  ttlMs: number | null;
}

/**
 * What `captureKeyspace` returns: plain data, branded so that the snapshot serializer recognises it.
 * `entries` are sorted by key (byte order).
 */
export interface KeyspaceSnapshot {
  readonly [KEYSPACE_BRAND]: true;
  readonly entries: KeyEntry[];
  /** Keys of types that are not read (sorted by key); usually empty. */
  readonly otherTypes: OtherTypeEntry[];
  readonly print: KeyspacePrintOptions;
  /** When it was read (epoch ms): what the clock fields of cache libraries' values print relative to. Default: the time of printing. */
  readonly capturedAtMs?: number;
}

/** True for a value built by `captureKeyspace` (or by hand with the brand). */
export function isKeyspaceSnapshot(value: unknown): value is KeyspaceSnapshot {
  return typeof value === 'object' && value !== null && (value as { [KEYSPACE_BRAND]?: unknown })[KEYSPACE_BRAND] === true;
}
