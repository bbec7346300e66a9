/** jest-cache-consistency: public API. No side effects on import (those live in ./setup). */
export { testRedis, redisUrl, redisKeyPrefix, redisClusterNodes, testDb } from './runtime/testContext';
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
  ExternalRedisError,
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
// cache contracts and toBeConsistentWith (issue 4)
import './matchers/jestGlobals';
import './matchers/jestExpect';
export type { CacheMatchers, DatabaseArgument } from './matchers/types';
export { matchers } from './matchers';
export { toBeConsistentWith } from './matchers/toBeConsistentWith';
export {
  defineCache,
  cached,
  CachedState,
  isCacheContract,
  type CacheContract,
  type AnyCacheContract,
  type CacheContractOptions,
  type CacheEncoding,
  type EntryTest,
  type LoadResult,
  type KeyParams,
  type ParamNames,
} from './consistency/contract';
export { registerCacheContracts, clearCacheContracts, type ConsistencyDefaults } from './consistency/registry';
export { checkConsistency, type ConsistencyOptions } from './consistency/check';
export type { ConsistencyReport, Inconsistency, InconsistencyKind } from './consistency/compare';
export { formatFailure as formatConsistencyReport } from './consistency/report';
export { withWriterLookup, registerWriterLookup, type WriterLookup } from './consistency/writers';
export {
  toQueryable,
  tryQueryable,
  ACCEPTED_DATABASE_HANDLES,
  type DatabaseHandle,
  type DatabaseKind,
  type SqlDialect,
  type QueryFunction,
} from './db/toQueryable';
export { UnsupportedDatabaseHandleError, CacheContractError, CacheLoadError, MatcherNotAwaitedError } from './errors';

// Race helpers (issue 5): instrumented actors, manual gates, every interleaving, faults and time.
export {
  race,
  everyInterleaving,
  replay,
  bindToActors,
  advanceTtl,
  activeKeyWriters,
  type Race,
  type RaceActor,
  type RaceOptions,
  type Gate,
  type Fault,
  type FailAtOptions,
  type Scenario,
  type ActorArgs,
  type SetupArgs,
  type CheckArgs,
  type FaultSpec,
  type RaceSummary,
  type ActorOutcome,
  type Strategy,
  type StepInfo,
  type StepRecord,
  type StepKind,
  type StepOutcome,
  type StepPattern,
  type KeyWriter,
  type KeyWriterLookup,
  type AdvanceTtlResult,
} from './race';
export {
  RaceFailureError,
  RaceActorStuckError,
  RaceStepStalledError,
  RaceUninstrumentedIoError,
  GateNeverReachedError,
  GateNotReleasedError,
  ScheduleReplayMismatchError,
  NondeterministicScenarioError,
  InvalidRaceScenarioError,
  RedisNotOwnedError,
  InjectedFaultError,
} from './errors';

// Real databases in the preset (issue 6): database.kind 'postgres' | 'mysql', docs/real-databases.md.
export type {
  PostgresTestDb,
  MysqlTestDb,
  Mysql2CompatiblePool,
  Mysql2CompatibleConnection,
  ResetStrategy,
} from './db/realTestDb';
export {
  DatabaseDriverMissingError,
  DatabaseUnreachableError,
  DatabaseProvisionError,
  DatabaseResetError,
  DatabaseKindMismatchError,
} from './errors';
