/**
 * jest-cache-consistency: public API. No side effects on import (those live in ./setup).
 *
 * Test files import this module, so importing it must stay cheap: the heavy parts (the comparison and its
 * diffs, the keyspace printer, the race helpers) are exported as forwarding functions that load their module
 * on first call. Their types are the real ones. bench/boot.js measures what a test file pays.
 */
import { lazyFunction } from './lazy';
import type * as CaptureModule from './keyspace/capture';
import type * as SerializerModule from './keyspace/serializer';
import type * as MessageModule from './keyspace/message';
import type * as CheckModule from './consistency/check';
import type * as ReportModule from './consistency/report';
import type * as RaceModule from './race';
import type * as RedisServerModule from './server/redisServer';
import type * as BinaryModule from './server/binary';
import type * as AdapterModule from './redis/toRedisAdapter';
import type * as RegistryModule from './consistency/registry';
import type * as QueryableModule from './db/toQueryable';
import { lazyMatchers } from './matchers/lazy';
import { lazyKeyspaceSerializer } from './keyspace/lazySerializer';

export { testRedis, redisUrl, redisKeyPrefix, redisClusterNodes, testDb } from './runtime/testContext';
export type { TestDb, PgCompatiblePool, PgCompatibleClient } from './db/embedded';
export type { Queryable, Row } from './db/types';
export type { CacheConsistencyOptions } from './preset/options';
export type { RedisServer, StartRedisServerOptions } from './server/redisServer';
export const startRedisServer = lazyFunction(() => (require('./server/redisServer') as typeof RedisServerModule).startRedisServer);
export type { RedisBinary } from './server/binary';
export const findRedisServerBinary = lazyFunction(() => (require('./server/binary') as typeof BinaryModule).findRedisServerBinary);
export {
  CacheConsistencyError,
  RedisBinaryNotFoundError,
  RedisServerStartError,
  InvalidOptionsError,
  SchemaError,
  ModuleLoadError,
  PresetNotActiveError,
  ExternalRedisError,
} from './errors';
// keyspace capture, Redis client adapters: docs/keyspace-snapshots.md
export type { CaptureKeyspaceOptions, DecodeOptions } from './keyspace/capture';
const capture = () => require('./keyspace/capture') as typeof CaptureModule;
export const captureKeyspace = lazyFunction(() => capture().captureKeyspace);
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
  type CacheEnvelopeRendering,
  type OtherTypeEntry,
} from './keyspace/types';
const adapters = () => require('./redis/toRedisAdapter') as typeof AdapterModule;
export const toRedisAdapter = lazyFunction(() => adapters().toRedisAdapter);
export const isRedisAdapter = lazyFunction(() => adapters().isRedisAdapter);
export type { RedisAdapter, RedisArg, RedisReply, RedisCommand, ScanOptions, RedisClientKind } from './redis/adapter';
export {
  NotARedisClientError,
  RedisConnectionClosedError,
  RedisUnreachableError,
  KeyspaceReadError,
  InvalidKeyspaceOptionError,
} from './errors';
export type { KeyspaceSerializerOptions, PrintKeyspaceOptions } from './keyspace/serializer';
const serializer = () => require('./keyspace/serializer') as typeof SerializerModule;
/** The pretty-format plugin for keyspace captures (the preset registers it). */
export const keyspaceSerializer = lazyKeyspaceSerializer;
export const createKeyspaceSerializer = lazyFunction(() => serializer().createKeyspaceSerializer);
export const registerKeyspaceSerializer = lazyFunction(() => serializer().registerKeyspaceSerializer);
export const printKeyspace = lazyFunction(() => serializer().printKeyspace);
export const truncateLongLines = lazyFunction(() => (require('./keyspace/message') as typeof MessageModule).truncateLongLines);
export type { KeyspaceSnapshotOptions } from './matchers/toMatchKeyspaceSnapshot';
export const toMatchKeyspaceSnapshot = lazyMatchers.toMatchKeyspaceSnapshot;
export const toMatchInlineKeyspaceSnapshot = lazyMatchers.toMatchInlineKeyspaceSnapshot;
// cache contracts and toBeConsistentWith: docs/contracts.md, docs/matchers.md
import type { CacheMatchers } from './matchers/types';
export type { CacheMatchers, DatabaseArgument } from './matchers/types';

/*
 * The matchers' types on Jest's `expect`, loaded with the package's types (`import ... from
 * 'jest-cache-consistency'` anywhere in the program, or `"types": ["jest", "jest-cache-consistency"]` in
 * tsconfig.json). Declared here, not in a module of their own: such a module would be one more file every test
 * file loads at run time, for types only. (Vitest's are in jest-cache-consistency/vitest.)
 */
declare global {
  // The global `expect` of @types/jest.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type
    interface Matchers<R, T = {}> extends CacheMatchers<R> {}
  }
}
// `expect` from @jest/globals, and the standalone `expect` package: their `Matchers` lives in module 'expect'.
declare module 'expect' {
  interface Matchers<R extends void | Promise<void>, T = unknown> extends CacheMatchers<R> {}
}
/** The runtime matcher table, for `expect.extend(matchers)` without the preset. */
export const matchers = lazyMatchers;
export const toBeConsistentWith = lazyMatchers.toBeConsistentWith;
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
// cache libraries' stored formats: docs/contracts.md#cache-libraries
export {
  keyvCodec,
  bentocacheCodec,
  isCacheCodec,
  type CacheCodec,
  type CodecDecoded,
  type KeyvCodecOptions,
  type BentocacheCodecOptions,
} from './keyspace/codecs';
export type { ConsistencyDefaults } from './consistency/registry';
const registry = () => require('./consistency/registry') as typeof RegistryModule;
export const registerCacheContracts = lazyFunction(() => registry().registerCacheContracts);
export const clearCacheContracts = lazyFunction(() => registry().clearCacheContracts);
export type { ConsistencyOptions } from './consistency/check';
export const checkConsistency = lazyFunction(() => (require('./consistency/check') as typeof CheckModule).checkConsistency);
export type { ConsistencyReport, Inconsistency, InconsistencyKind } from './consistency/compare';
export const formatConsistencyReport = lazyFunction(() => (require('./consistency/report') as typeof ReportModule).formatFailure);
export { withWriterLookup, registerWriterLookup, type WriterLookup } from './consistency/writers';
export type { DatabaseHandle, DatabaseKind, SqlDialect, QueryFunction } from './db/toQueryable';
const queryables = () => require('./db/toQueryable') as typeof QueryableModule;
export const toQueryable = lazyFunction(() => queryables().toQueryable);
export const tryQueryable = lazyFunction(() => queryables().tryQueryable);
export { ACCEPTED_DATABASE_HANDLES } from './db/types';
export { UnsupportedDatabaseHandleError, CacheContractError, CacheCodecError, CacheLoadError, MatcherNotAwaitedError } from './errors';

// Race helpers (docs/race.md): instrumented actors, manual gates, every interleaving, faults and time.
const raceHelpers = () => require('./race') as typeof RaceModule;
export const race = lazyFunction(() => raceHelpers().race);
export const everyInterleaving = lazyFunction(() => raceHelpers().everyInterleaving);
export const replay = lazyFunction(() => raceHelpers().replay);
export const bindToActors = lazyFunction(() => raceHelpers().bindToActors);
export const advanceTtl = lazyFunction(() => raceHelpers().advanceTtl);
export const activeKeyWriters = lazyFunction(() => raceHelpers().activeKeyWriters);
export type {
  Race,
  RaceActor,
  RaceOptions,
  Gate,
  Fault,
  FailAtOptions,
  Scenario,
  ActorArgs,
  SetupArgs,
  CheckArgs,
  FaultSpec,
  RaceSummary,
  VirtualTimeOptions,
  ActorOutcome,
  Strategy,
  StepInfo,
  StepRecord,
  StepKind,
  StepOutcome,
  StepPattern,
  KeyWriter,
  KeyWriterLookup,
  AdvanceTtlResult,
} from './race';
export {
  RaceFailureError,
  RaceActorStuckError,
  RaceActorOutlivedError,
  RaceReductionMismatchError,
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

// Real databases in the preset: database.kind 'postgres' | 'mysql', docs/real-databases.md.
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
