/** jest-cache-consistency: public API. No side effects on import (those live in ./setup). */
export { testRedis, redisUrl, testDb } from './runtime/testContext';
export type { TestDb, PgCompatiblePool, PgCompatibleClient } from './db/embedded';
export type { Queryable, Row } from './db/types';
export type { CacheConsistencyOptions } from './preset/options';
export { startRedisServer, type RedisServer, type StartRedisServerOptions } from './server/redisServer';
export { findRedisServerBinary, type RedisBinary } from './server/binary';
export {
  CacheConsistencyError,
  RedisBinaryNotFoundError,
  RedisServerStartError,
  InvalidOptionsError,
  SchemaError,
  PresetNotActiveError,
} from './errors';
// keyspace capture, Redis client adapters (issue 3)
export { captureKeyspace, type CaptureKeyspaceOptions, type DecodeOptions } from './keyspace/capture';
export type { RedactRule } from './keyspace/redact';
export {
  KEYSPACE_BRAND,
  isKeyspaceSnapshot,
  type KeyspaceSnapshot,
  type KeyEntry,
  type KeyValue,
  type KeyType,
  type RedisText,
  type TtlRendering,
  type BinaryRendering,
  type KeyspacePrintOptions,
  type OtherTypeEntry,
} from './keyspace/types';
export { toRedisAdapter, isRedisAdapter } from './redis/toRedisAdapter';
export type { RedisAdapter, RedisArg, RedisReply, RedisCommand, ScanOptions, RedisClientKind } from './redis/adapter';
export {
  NotARedisClientError,
  RedisConnectionClosedError,
  RedisUnreachableError,
  KeyspaceReadError,
  InvalidKeyspaceOptionError,
} from './errors';
export {
  keyspaceSerializer,
  createKeyspaceSerializer,
  registerKeyspaceSerializer,
  printKeyspace,
  type KeyspaceSerializerOptions,
  type PrintKeyspaceOptions,
} from './keyspace/serializer';
export { truncateLongLines } from './keyspace/message';
export {
  toMatchKeyspaceSnapshot,
  toMatchInlineKeyspaceSnapshot,
  type KeyspaceSnapshotOptions,
} from './matchers/toMatchKeyspaceSnapshot';
