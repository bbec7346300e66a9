import { existsSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import { DATABASE_KINDS, URL_EXAMPLE, databaseUrlProblem, redactUrl, type RealDatabaseKind } from '../db/databaseUrl';
import { InvalidOptionsError } from '../errors';
import { closestWord, findUnknownKey, optionKeys } from '../optionKeys';
import { Redaction, redactList, serializeRedactRules, type RedactRule, type SerializedRedactRule } from '../keyspace/redact';
import { AUTH_ARGS, LIBRARY_CHOSEN_ARGS, argNaming } from '../server/redisServer';

/** Everything under `testEnvironmentOptions.cacheConsistency`. docs/configuration.md documents each key. */
export interface CacheConsistencyOptions {
  redis?: {
    /** Path to redis-server. Default: env REDIS_SERVER_BINARY, then PATH, then redis-memory-server. */
    binary?: string;
    /** Extra redis-server arguments, e.g. `['--maxmemory', '64mb']`. */
    args?: string[];
    /** How long a server may take to answer its first PING. Default 10000. */
    startTimeoutMs?: number;
    /**
     * Use this existing server instead of starting one (docs/external-redis.md). The library then never
     * flushes anything it did not write: see `isolation` and `allowFlush`.
     */
    url?: string;
    /** External server only: one database index per worker (default), or one key prefix per worker. */
    isolation?: 'database' | 'prefix';
    /** External server, `isolation: 'database'`: allow FLUSHDB of this run's own database indexes. */
    allowFlush?: boolean;
    /** Start a real Redis Cluster per worker instead of one server (docs/cluster.md). */
    cluster?: { masters?: number; replicasPerMaster?: number };
  };
  database?: {
    /**
     * Schema for the embedded pg-mem database, applied in order: `.sql` files, or modules whose default
     * export is `(db: TestDb) => void | Promise<void>`. Paths are relative to Jest's rootDir.
     */
    schema?: string | string[];
    /**
     * Which database `testDb()` gives: the embedded `'pg-mem'` (default), or one database per Jest worker on a
     * real PostgreSQL (`'postgres'`) or MySQL/MariaDB (`'mysql'`) server, created from `schema` in globalSetup and
     * dropped at teardown. docs/real-databases.md.
     */
    kind?: 'pg-mem' | 'postgres' | 'mysql';
    /** The real server (required for `'postgres'` / `'mysql'`), e.g. `postgres://postgres@127.0.0.1:5432/postgres`. */
    url?: string;
    /** How a real database is put back before each test. Default `'delete'` (measured fastest: bench/db-reset.js). */
    reset?: 'delete' | 'truncate';
  };
  /** Defaults of `expect(redis).toBeConsistentWith(db)`: docs/contracts.md#registering-contracts-once. */
  consistency?: {
    /**
     * Modules whose exports are the cache contracts (`defineCache`) every test checks when a call passes
     * none: a default export (one contract or an array), or named exports. Paths relative to Jest's rootDir.
     */
    contracts?: string | string[];
    /** Report keys no contract covers as inconsistent. Default false. */
    strict?: boolean;
    /** Inconsistent keys shown in full in a failure message; the rest are counted. Default 10. */
    maxReported?: number;
  };
  /**
   * Secrets never printed: not in keyspace snapshots, the consistency matcher's messages and diffs, or the race
   * report. The rules of `captureKeyspace`'s `redact` (docs/configuration.md#redact); a call's own `redact`
   * adds to these.
   */
  redact?: RedactRule | RedactRule[];
}

/** Options after validation: defaults filled, paths absolute. Serialisable (they travel to workers as JSON). */
export interface ResolvedOptions {
  redis: {
    binary?: string;
    args: string[];
    startTimeoutMs: number;
    /** Set for a Redis Cluster per worker. */
    cluster?: { masters: number; replicasPerMaster: number };
    /** Set for an external server. */
    external?: { url: string; isolation: 'database' | 'prefix'; allowFlush: boolean };
  };
  database: {
    schema: string[];
    /** Set for a real database (absent: pg-mem), with its `url` and `reset` strategy. */
    kind?: 'postgres' | 'mysql';
    url?: string;
    reset?: 'delete' | 'truncate';
  };
  /** Present when `consistency` was configured. */
  consistency?: { contracts: string[]; strict: boolean; maxReported: number };
  /** Present when `redact` was configured: the rules, RegExps as `{ regexp, flags }` (JSON travels). */
  redact?: SerializedRedactRule[];
}

const ROOT = 'testEnvironmentOptions.cacheConsistency';

type RedisOptions = NonNullable<CacheConsistencyOptions['redis']>;
/** The known keys of each options object (the types keep them complete). */
const ROOT_KEYS = optionKeys<CacheConsistencyOptions>({ redis: true, database: true, consistency: true, redact: true });
const REDIS_KEYS = optionKeys<RedisOptions>({ binary: true, args: true, startTimeoutMs: true, url: true, isolation: true, allowFlush: true, cluster: true });
const CLUSTER_KEYS = optionKeys<NonNullable<RedisOptions['cluster']>>({ masters: true, replicasPerMaster: true });
const DATABASE_KEYS = optionKeys<NonNullable<CacheConsistencyOptions['database']>>({ schema: true, kind: true, url: true, reset: true });
const CONSISTENCY_KEYS = optionKeys<NonNullable<CacheConsistencyOptions['consistency']>>({ contracts: true, strict: true, maxReported: true });

type Check = (value: unknown, path: string) => void;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array (${JSON.stringify(v).slice(0, 60)})`;
  if (typeof v === 'string') return `the string ${JSON.stringify(v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

function checkKeys(obj: Record<string, unknown>, path: string, known: readonly string[]): void {
  const unknown = findUnknownKey(obj, known);
  if (unknown) throw new InvalidOptionsError(`${path}.${unknown.key}`, unknown.problem);
}

const nonEmptyString: Check = (v, path) => {
  if (typeof v !== 'string' || v.trim() === '') throw new InvalidOptionsError(path, `expected a non-empty string, got ${describe(v)}.`);
};
const positiveInt: Check = (v, path) => {
  if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0)
    throw new InvalidOptionsError(path, `expected a positive integer (milliseconds), got ${describe(v)}.`);
};
const stringArray: Check = (v, path) => {
  if (!Array.isArray(v)) throw new InvalidOptionsError(path, `expected an array of strings, got ${describe(v)}.`);
  v.forEach((item, i) => nonEmptyString(item, `${path}[${i}]`));
};

const RESET_STRATEGIES = ['delete', 'truncate'] as const;

/** `database.kind`, `database.url` and `database.reset` (docs/real-databases.md). */
function validateRealDatabase(d: Record<string, unknown>, path: string, out: ResolvedOptions['database']): void {
  const kind = d.kind ?? 'pg-mem';
  if (typeof kind !== 'string' || !(DATABASE_KINDS as readonly string[]).includes(kind)) {
    const aliases: Record<string, string> = { postgresql: 'postgres', pg: 'postgres', mariadb: 'mysql', pgmem: 'pg-mem' };
    const lower = typeof kind === 'string' ? kind.toLowerCase().replace(/[^a-z]/g, '') : '';
    const close = aliases[lower] ?? closestWord(lower, DATABASE_KINDS);
    throw new InvalidOptionsError(`${path}.kind`, `expected ${DATABASE_KINDS.map((k) => `'${k}'`).join(', ')}, got ${describe(d.kind)}.${close ? ` Did you mean '${close}'?` : ''}`);
  }
  if (kind === 'pg-mem') {
    for (const key of ['url', 'reset'] as const)
      if (d[key] !== undefined)
        throw new InvalidOptionsError(`${path}.${key}`, `applies only to a real database (database.kind 'postgres' or 'mysql'); the embedded pg-mem database needs none. Set database.kind, or remove ${key}.`);
    return;
  }
  const real = kind as RealDatabaseKind;
  if (d.url === undefined)
    throw new InvalidOptionsError(`${path}.url`, `is required with database.kind '${real}': the server to create the per-worker databases on, e.g. ${URL_EXAMPLE[real]}.`);
  nonEmptyString(d.url, `${path}.url`);
  const problem = databaseUrlProblem(real, d.url as string);
  if (problem) {
    const raw = d.url as string;
    const shown = URL.canParse(raw) ? redactUrl(raw) : raw.includes('@') ? '(not shown: it may hold a password)' : JSON.stringify(raw);
    throw new InvalidOptionsError(`${path}.url`, `${shown} is ${problem}`);
  }
  if (d.reset !== undefined && !(RESET_STRATEGIES as readonly unknown[]).includes(d.reset))
    throw new InvalidOptionsError(`${path}.reset`, `expected ${RESET_STRATEGIES.map((k) => `'${k}'`).join(' or ')}, got ${describe(d.reset)}.`);
  out.kind = real;
  out.url = d.url as string;
  out.reset = (d.reset as 'delete' | 'truncate' | undefined) ?? 'delete';
}

/**
 * `testEnvironmentOptions` is shared with the test environment's own options (jsdom's `url`, ...), so only a
 * key that looks like a misspelling of `cacheConsistency` (at most 3 edits, any case) is refused there: left
 * alone, it would run every test without the options the user meant to give.
 */
export function checkEnvironmentOptionKeys(environmentOptions: unknown): void {
  if (!isPlainObject(environmentOptions)) return;
  for (const key of Object.keys(environmentOptions)) {
    if (key !== 'cacheConsistency' && closestWord(key, ['cacheConsistency'], 3))
      throw new InvalidOptionsError(`testEnvironmentOptions.${key}`, 'unknown option. Did you mean "cacheConsistency"? (the options of jest-cache-consistency go under testEnvironmentOptions.cacheConsistency)');
  }
}

export function validateOptions(raw: unknown, rootDir: string): ResolvedOptions {
  const abs = (p: string) => (isAbsolute(p) ? p : resolve(rootDir, p));
  const out: ResolvedOptions = { redis: { args: [], startTimeoutMs: 10_000 }, database: { schema: [] } };
  if (raw === undefined) return out;
  if (!isPlainObject(raw)) throw new InvalidOptionsError(ROOT, `expected an object, got ${describe(raw)}.`);
  checkKeys(raw, ROOT, ROOT_KEYS);

  if (raw.redis !== undefined) {
    const path = `${ROOT}.redis`;
    const r = raw.redis;
    if (!isPlainObject(r)) throw new InvalidOptionsError(path, `expected an object, got ${describe(r)}.`);
    checkKeys(r, path, REDIS_KEYS);
    if (r.cluster !== undefined) {
      const cpath = `${path}.cluster`;
      if (r.url !== undefined) throw new InvalidOptionsError(cpath, 'starts a cluster of servers the library owns, but redis.url points at an existing server: remove one of the two.');
      const c = r.cluster === true ? {} : r.cluster;
      if (!isPlainObject(c)) throw new InvalidOptionsError(cpath, `expected an object like { masters: 3, replicasPerMaster: 0 }, got ${describe(c)}.`);
      checkKeys(c, cpath, CLUSTER_KEYS);
      const masters = c.masters ?? 3;
      const replicasPerMaster = c.replicasPerMaster ?? 0;
      if (typeof masters !== 'number' || !Number.isInteger(masters) || masters < 1 || masters > 16)
        throw new InvalidOptionsError(`${cpath}.masters`, `expected an integer from 1 to 16, got ${describe(masters)}.`);
      if (typeof replicasPerMaster !== 'number' || !Number.isInteger(replicasPerMaster) || replicasPerMaster < 0 || replicasPerMaster > 2)
        throw new InvalidOptionsError(`${cpath}.replicasPerMaster`, `expected 0, 1 or 2, got ${describe(replicasPerMaster)}.`);
      out.redis.cluster = { masters, replicasPerMaster };
    }
    if (r.url !== undefined) {
      nonEmptyString(r.url, `${path}.url`);
      let parsed: URL | undefined;
      try {
        parsed = new URL(r.url as string);
      } catch {
        parsed = undefined;
      }
      if (!parsed || !['redis:', 'rediss:'].includes(parsed.protocol) || !parsed.hostname)
        throw new InvalidOptionsError(`${path}.url`, `expected a redis://host:port URL, got ${parsed ? redactUrl(r.url as string) : 'a string that is not a URL'}.`);
      const dbPath = parsed.pathname.replace(/^\//, '');
      if (dbPath !== '' && !/^\d+$/.test(dbPath))
        throw new InvalidOptionsError(`${path}.url`, `the path must be a database index (redis://host:port/2), got "/${dbPath}".`);
      const spawnOnly = ['binary', 'args', 'startTimeoutMs'].find((k) => r[k] !== undefined);
      if (spawnOnly)
        throw new InvalidOptionsError(`${path}.${spawnOnly}`, `applies to servers the library starts, but redis.url points at an existing server: remove one of the two.`);
      if (r.isolation !== undefined && r.isolation !== 'database' && r.isolation !== 'prefix')
        throw new InvalidOptionsError(`${path}.isolation`, `expected 'database' or 'prefix', got ${describe(r.isolation)}.`);
      if (r.allowFlush !== undefined && typeof r.allowFlush !== 'boolean')
        throw new InvalidOptionsError(`${path}.allowFlush`, `expected true or false, got ${describe(r.allowFlush)}.`);
      out.redis.external = {
        url: r.url as string,
        isolation: (r.isolation as 'database' | 'prefix' | undefined) ?? 'database',
        allowFlush: (r.allowFlush as boolean | undefined) ?? false,
      };
    } else {
      const externalOnly = ['isolation', 'allowFlush'].find((k) => r[k] !== undefined);
      if (externalOnly)
        throw new InvalidOptionsError(`${path}.${externalOnly}`, `applies only with redis.url (an existing server); the servers the library starts are its own to flush.`);
    }
    if (r.binary !== undefined) {
      nonEmptyString(r.binary, `${path}.binary`);
      out.redis.binary = abs(r.binary as string);
    }
    if (r.args !== undefined) {
      stringArray(r.args, `${path}.args`);
      const bad = argNaming(r.args as string[], LIBRARY_CHOSEN_ARGS);
      if (bad) throw new InvalidOptionsError(`${path}.args`, `${bad} is chosen by the library (one loopback server per worker); remove it.`);
      const auth = argNaming(r.args as string[], AUTH_ARGS);
      if (auth) throw new InvalidOptionsError(`${path}.args`, `${auth}: the servers the library starts listen on loopback only and take no password; remove it (to test against a server with a password, use redis.url).`);
      out.redis.args = [...(r.args as string[])];
    }
    if (r.startTimeoutMs !== undefined) {
      positiveInt(r.startTimeoutMs, `${path}.startTimeoutMs`);
      out.redis.startTimeoutMs = r.startTimeoutMs as number;
    }
  }

  if (raw.database !== undefined) {
    const path = `${ROOT}.database`;
    const d = raw.database;
    if (!isPlainObject(d)) throw new InvalidOptionsError(path, `expected an object, got ${describe(d)}.`);
    checkKeys(d, path, DATABASE_KEYS);
    validateRealDatabase(d, path, out.database);
    if (d.schema !== undefined) {
      const list = typeof d.schema === 'string' ? [d.schema] : d.schema;
      if (typeof d.schema !== 'string') stringArray(list, `${path}.schema`);
      else nonEmptyString(d.schema, `${path}.schema`);
      out.database.schema = (list as string[]).map(abs);
      out.database.schema.forEach((file, i) => {
        if (!existsSync(file)) throw new InvalidOptionsError(`${path}.schema${typeof d.schema === 'string' ? '' : `[${i}]`}`, `no file at ${file} (paths are relative to Jest's rootDir, ${rootDir}).`);
      });
    }
  }
  if (raw.consistency !== undefined) {
    const path = `${ROOT}.consistency`;
    const c = raw.consistency;
    if (!isPlainObject(c)) throw new InvalidOptionsError(path, `expected an object, got ${describe(c)}.`);
    checkKeys(c, path, CONSISTENCY_KEYS);
    const consistency = { contracts: [] as string[], strict: false, maxReported: 10 };
    if (c.contracts !== undefined) {
      if (typeof c.contracts === 'string') nonEmptyString(c.contracts, `${path}.contracts`);
      else stringArray(c.contracts, `${path}.contracts`);
      const list = typeof c.contracts === 'string' ? [c.contracts] : (c.contracts as string[]);
      consistency.contracts = list.map(abs);
      consistency.contracts.forEach((file, i) => {
        if (!existsSync(file) && !['.ts', '.js', '.cjs', '.mjs'].some((ext) => existsSync(file + ext)))
          throw new InvalidOptionsError(`${path}.contracts${typeof c.contracts === 'string' ? '' : `[${i}]`}`, `no module at ${file} (paths are relative to Jest's rootDir, ${rootDir}).`);
      });
    }
    if (c.strict !== undefined) {
      if (typeof c.strict !== 'boolean') throw new InvalidOptionsError(`${path}.strict`, `expected true or false, got ${describe(c.strict)}.`);
      consistency.strict = c.strict;
    }
    if (c.maxReported !== undefined) {
      if (typeof c.maxReported !== 'number' || !Number.isInteger(c.maxReported) || c.maxReported <= 0)
        throw new InvalidOptionsError(`${path}.maxReported`, `expected a positive integer (a number of keys), got ${describe(c.maxReported)}.`);
      consistency.maxReported = c.maxReported as number;
    }
    out.consistency = consistency;
  }
  if (raw.redact !== undefined) {
    const rules = redactList(raw.redact as RedactRule | RedactRule[]);
    // The same rules and checks as captureKeyspace's redact, reported under this option's path.
    new Redaction(rules, (option, problem) => new InvalidOptionsError(`${ROOT}.${option}`, `${problem}. The rules are those of captureKeyspace's redact (docs/configuration.md#redact).`));
    out.redact = serializeRedactRules(rules);
  }
  return out;
}
