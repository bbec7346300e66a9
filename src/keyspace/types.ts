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
};

/** Brand recognised by the snapshot serializer (a registered symbol, so it survives module duplication). */
export const KEYSPACE_BRAND = Symbol.for('jest-cache-consistency.keyspace');
