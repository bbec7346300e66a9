/**
 * Every error this library throws on purpose is a `CacheConsistencyError` with a stable `code`.
 * docs/errors.md explains each code and its fix.
 */
export class CacheConsistencyError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

const INSTALL_HINT = [
  'Install Redis, then run the tests again:',
  '  Debian/Ubuntu: sudo apt-get install redis-server',
  '  macOS:         brew install redis',
  'or point at a binary you already have:',
  '  REDIS_SERVER_BINARY=/path/to/redis-server npm test',
  "  testEnvironmentOptions: { cacheConsistency: { redis: { binary: '/path/to/redis-server' } } }",
].join('\n');

export class RedisBinaryNotFoundError extends CacheConsistencyError {
  readonly tried: readonly string[];
  constructor(tried: readonly string[], detail?: string) {
    super(
      'REDIS_BINARY_NOT_FOUND',
      `No redis-server binary was found.\nLooked at:\n${tried.map((t) => `  - ${t}`).join('\n')}` +
        (detail ? `\n${detail}` : '') +
        `\n\n${INSTALL_HINT}`,
    );
    this.tried = tried;
  }
}

export class RedisServerStartError extends CacheConsistencyError {
  readonly binary: string;
  readonly args: readonly string[];
  readonly output: string;
  constructor(binary: string, args: readonly string[], reason: string, output: string) {
    super(
      'REDIS_SERVER_START_FAILED',
      `redis-server failed to start: ${reason}\n  command: ${binary} ${args.join(' ')}` +
        (output.trim() ? `\n  its output:\n${indent(output.trim(), '    ')}` : '') +
        '\nCheck that the binary runs by hand (`redis-server --version`) and that extra args in ' +
        'cacheConsistency.redis.args are valid for this Redis version.',
    );
    this.binary = binary;
    this.args = args;
    this.output = output;
  }
}

export class InvalidOptionsError extends CacheConsistencyError {
  readonly path: string;
  constructor(path: string, problem: string) {
    super('INVALID_OPTIONS', `Invalid option ${path}: ${problem}\nSee docs/configuration.md for every option.`);
    this.path = path;
  }
}

export class SchemaError extends CacheConsistencyError {
  readonly file: string;
  readonly statement: string | undefined;
  readonly line: number | undefined;
  constructor(file: string, problem: string, statement?: string, line?: number, cause?: unknown) {
    super(
      'SCHEMA_FAILED',
      `The database schema failed in ${file}${line !== undefined ? `:${line}` : ''}: ${problem}` +
        (statement !== undefined ? `\n  statement:\n${indent(statement, '    ')}` : '') +
        '\nFix the schema file, or see docs/database.md for what the embedded pg-mem database supports.',
      { cause },
    );
    this.file = file;
    this.statement = statement;
    this.line = line;
  }
}

export class PresetNotActiveError extends CacheConsistencyError {
  constructor(what: string) {
    super(
      'PRESET_NOT_ACTIVE',
      `${what} needs the jest-cache-consistency preset, but its global setup did not run in this Jest process.\n` +
        "Add `preset: 'jest-cache-consistency'` to jest.config.js, or call the library's globalSetup from " +
        'your own (docs/configuration.md#your-own-globalsetup).',
    );
  }
}

export class OutsideTestError extends CacheConsistencyError {
  constructor(what: string) {
    super(
      'OUTSIDE_TEST_FILE',
      `${what} can only be used inside a Jest test file (or a module it imports), where the preset's setup file runs.`,
    );
  }
}

// --- keyspace capture and Redis clients (issue 3) ---

/** A value given where a Redis client was needed is not one this library can drive. */
export class NotARedisClientError extends CacheConsistencyError {
  readonly received: string;
  constructor(what: string, received: string) {
    super(
      'NOT_A_REDIS_CLIENT',
      `${what} needs a Redis client: an ioredis client (new Redis()), an ioredis Cluster, or a node-redis v5 ` +
        `client (createClient(), connected). Received: ${received}.`,
    );
    this.received = received;
  }
}

/** The Redis client was closed (quit, disconnect) or, for node-redis, never connected. */
export class RedisConnectionClosedError extends CacheConsistencyError {
  readonly client: string;
  constructor(client: string) {
    super(
      'REDIS_CONNECTION_CLOSED',
      `The Redis connection is closed: ${client}.
` +
        'Pass a client that is connected (node-redis: await client.connect()), and close it only after the ' +
        'assertion (in afterAll).',
    );
    this.client = client;
  }
}

/** The Redis client could not reach its server (refused, timed out, DNS, auth failure). */
export class RedisUnreachableError extends CacheConsistencyError {
  readonly client: string;
  constructor(client: string, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      'REDIS_UNREACHABLE',
      `The Redis server could not be reached: ${client}: ${reason}.
` +
        'Check the host and port (testRedis() and redisUrl() point at this worker\'s own server).',
      { cause },
    );
    this.client = client;
  }
}

/** A command failed while the keyspace was being read (for example an ACL without the needed commands). */
export class KeyspaceReadError extends CacheConsistencyError {
  readonly key: string | undefined;
  constructor(key: string | undefined, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    super(
      'KEYSPACE_READ_FAILED',
      `Reading the Redis keyspace failed${key !== undefined ? ` at key ${JSON.stringify(key)}` : ''}: ${reason}
` +
        'captureKeyspace needs SCAN, TYPE, PTTL and the read commands of every type (GET, HGETALL, LRANGE, ' +
        'SMEMBERS, ZRANGE, XRANGE); with scripting allowed (EVAL/EVALSHA) it reads a whole batch per round trip.',
      { cause },
    );
    this.key = key;
  }
}

/** An option of captureKeyspace or toMatchKeyspaceSnapshot has the wrong shape. */
export class InvalidKeyspaceOptionError extends CacheConsistencyError {
  readonly option: string;
  constructor(option: string, problem: string) {
    super(
      'INVALID_KEYSPACE_OPTION',
      `Invalid keyspace option ${option}: ${problem}\nSee docs/keyspace-snapshots.md for every option.`,
    );
    this.option = option;
  }
}

// --- cache contracts and toBeConsistentWith (issue 4) ---

/** A value given where a database handle was needed is not one this library can query. */
export class UnsupportedDatabaseHandleError extends CacheConsistencyError {
  readonly received: string;
  constructor(what: string, received: string) {
    super(
      'UNSUPPORTED_DATABASE_HANDLE',
      `${what} must be testDb(), a pg-mem database (newDb()), a node-postgres Pool or Client, a mysql2 pool or ` +
        `connection, a Queryable ({ query(sql, params) => rows }) or a function (sql, params) => rows. ` +
        `Received: ${received}.`,
    );
    this.received = received;
  }
}

/** A `defineCache` contract (or the contracts module named in the config) is malformed. */
export class CacheContractError extends CacheConsistencyError {
  readonly contract: string;
  readonly option: string;
  constructor(contract: string, option: string, problem: string) {
    super(
      'CACHE_CONTRACT_INVALID',
      `Invalid cache contract ${contract}: ${option}: ${problem}\nSee docs/contracts.md for every option.`,
    );
    this.contract = contract;
    this.option = option;
  }
}

/** Reading a key's rows for the comparison failed: the contract's load threw or returned something unusable. */
export class CacheLoadError extends CacheConsistencyError {
  readonly contract: string;
  readonly key: string;
  constructor(contract: string, key: string, problem: string, cause?: unknown) {
    super(
      'CACHE_LOAD_FAILED',
      `Loading the rows for cached key ${key} (contract ${contract}) failed: ${problem}\n` +
        'The comparison reads every cached key through its contract: fix the load (or table/where), or the ' +
        'database handle. See docs/contracts.md.',
      { cause },
    );
    this.contract = contract;
    this.key = key;
  }
}

/** An async matcher of this library was still running when its test ended: the `await` is missing. */
export class MatcherNotAwaitedError extends CacheConsistencyError {
  readonly matcher: string;
  constructor(matcher: string, count: number) {
    super(
      'MATCHER_NOT_AWAITED',
      `${matcher} was called ${count === 1 ? 'once' : `${count} times`} without await: the test ended before ` +
        `the check finished, so its result was lost.\nWrite \`await expect(redis).${matcher}(...)\` (or return ` +
        'the promise) in the test.',
    );
    this.matcher = matcher;
  }
}

export function indent(text: string, prefix: string): string {
  return text
    .split('\n')
    .map((l) => prefix + l)
    .join('\n');
}
