import type { RealDatabaseState } from '../db/realTestDb';
import type { RedactRule } from '../keyspace/redact';
import type { ResolvedOptions } from './options';

/**
 * What globalSetup hands to the test workers. Workers are separate processes: only environment variables
 * reach them, so the state travels as JSON in one variable.
 */
export interface PresetState {
  version: 1;
  /** One URL per Jest worker, indexed by JEST_WORKER_ID - 1. */
  redisUrls: string[];
  /** The same servers' unix sockets, used by the library's own connections (lower latency). */
  redisSockets: string[];
  /**
   * External server only (redis.url): per worker, the database index it owns (`isolation: 'database'`) or
   * the key prefix it owns (`isolation: 'prefix'`). Absent for servers the library started.
   */
  external?: { isolation: 'database' | 'prefix'; databases: number[]; keyPrefixes: string[] };
  /**
   * Redis Cluster mode: per worker, its cluster's masters (host/port and unix socket). redisUrls/redisSockets
   * then name each worker's first master.
   */
  clusters?: Array<{ masters: Array<{ host: string; port: number; socket: string }>; replicas: number }>;
  /** A real database per worker (`database.kind` 'postgres' or 'mysql'): URLs, names and the reset plan. */
  database?: RealDatabaseState;
  /**
   * The redis-servers the library started for this run (none on an external server): their run_id and private
   * folder. A keyspace capture on one of them may read an RDB snapshot (src/server/ownServers.ts).
   */
  ownServers?: Array<{ runId: string; dir: string }>;
  /** The watchdog process that kills the servers if this Jest process dies without its teardown. */
  watchdogPid: number;
  options: ResolvedOptions;
}

export const STATE_ENV = 'JEST_CACHE_CONSISTENCY_STATE';

export function writeState(state: PresetState, env: NodeJS.ProcessEnv = process.env): void {
  env[STATE_ENV] = JSON.stringify(state);
}

let parsed: { raw: string; state: PresetState | undefined; redact?: RedactRule[] } | undefined;

export function readState(env: NodeJS.ProcessEnv = process.env): PresetState | undefined {
  const raw = env[STATE_ENV];
  if (!raw) return undefined;
  // Read before every test: parsed once per value.
  if (parsed?.raw !== raw) {
    const state = JSON.parse(raw) as PresetState;
    parsed = { raw, state: state.version === 1 ? state : undefined };
  }
  return parsed.state;
}

/**
 * The preset's `redact` rules (testEnvironmentOptions.cacheConsistency.redact), RegExps restored; empty without
 * the preset or the option. Every place that prints values starts from these and adds a call's own rules.
 */
export function presetRedactRules(env: NodeJS.ProcessEnv = process.env): readonly RedactRule[] {
  const state = readState(env);
  if (!state?.options.redact || !parsed) return [];
  // Loaded only where configured: every worker reads this state, few configure redact.
  const { deserializeRedactRules } = require('../keyspace/redact') as typeof import('../keyspace/redact');
  parsed.redact ??= deserializeRedactRules(state.options.redact);
  return parsed.redact;
}
