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
