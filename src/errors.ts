/**
 * Every error this library throws on purpose is a `CacheConsistencyError` with a stable `code`.
 * docs/errors.md explains each code and its fix. The message starts with the code (`[RACE_FAILED] ...`): Jest
 * prints the class name and the message, so a failure shows the code to look up.
 */
export class CacheConsistencyError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(`[${code}] ${message}`, options);
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
  /** `refused`: the library refused the options before starting anything (the reason says what to change). */
  constructor(binary: string, args: readonly string[], reason: string, output: string, options: { refused?: boolean } = {}) {
    super(
      'REDIS_SERVER_START_FAILED',
      options.refused
        ? `redis-server was not started: ${reason}`
        : `redis-server failed to start: ${reason}\n  command: ${binary} ${args.join(' ')}` +
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
        '\nFix the schema file. (On the embedded pg-mem database, docs/database.md#what-pg-mem-does-not-do lists what it does not support.)',
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

// --- keyspace capture and Redis clients: docs/keyspace-snapshots.md ---

/** The message of an error from any realm (Node's own errors are not `instanceof Error` inside Jest). */
function causeMessage(cause: unknown): string {
  const message = (cause as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(cause);
}

/** A value given where a Redis client was needed is not one this library can drive. */
export class NotARedisClientError extends CacheConsistencyError {
  readonly received: string;
  constructor(what: string, received: string) {
    super(
      'NOT_A_REDIS_CLIENT',
      `${what} needs a Redis client: an ioredis client (new Redis()), an ioredis Cluster, or a node-redis v5 or v6 ` +
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
    const reason = causeMessage(cause);
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
    const reason = causeMessage(cause);
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

// --- cache contracts and toBeConsistentWith: docs/contracts.md, docs/matchers.md ---

/** A value given where a database handle was needed is not one this library can query. */
export class UnsupportedDatabaseHandleError extends CacheConsistencyError {
  readonly received: string;
  constructor(what: string, received: string) {
    super(
      'UNSUPPORTED_DATABASE_HANDLE',
      `${what} must be testDb(), a pg-mem database (newDb()), a node-postgres Pool or Client, a mysql2 pool or ` +
        `connection, a Knex or Sequelize instance, a postgres.js sql, a Queryable ({ query(sql, params) => rows }) or a function (sql, params) => rows. ` +
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

/** `keyvCodec()` or `bentocacheCodec()` got an option it does not know, or a value of the wrong type. */
export class CacheCodecError extends CacheConsistencyError {
  readonly codec: string;
  readonly option: string;
  constructor(codec: string, option: string, problem: string) {
    super(
      'CACHE_CODEC_INVALID',
      `Invalid cache codec ${codec}: ${option}: ${problem}\nSee docs/contracts.md#cache-libraries for the options of each codec.`,
    );
    this.codec = codec;
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
  /** `where` names the code that returned before the call finished (a race's check); default: the test. */
  constructor(matcher: string, count: number, where?: string) {
    const times = count === 1 ? 'once' : `${count} times`;
    super(
      'MATCHER_NOT_AWAITED',
      where === undefined
        ? `${matcher} was called ${times} without await: the test ended before the check finished, so its result ` +
            `was lost.\nWrite \`await expect(redis).${matcher}(...)\` (or return the promise) in the test.`
        : `${matcher} was called ${times} without await in ${where}: it returned before the check finished, so ` +
            `its result was lost.\nWrite \`await expect(redis).${matcher}(...)\` there (in an async function).`,
    );
    this.matcher = matcher;
  }
}

// --- race helpers: docs/race.md ---

/** everyInterleaving / replay found a schedule whose check failed, or in which an actor failed unprovoked. */
export class RaceFailureError extends CacheConsistencyError {
  /** The whole report: check message, timeline, last writers, outcomes, replay token. */
  readonly report: string;
  /** Paste into `replay(token, scenario)` to rerun exactly this order. */
  readonly token: string;
  /** Schedules explored before this one failed (shrinking runs not counted). */
  readonly schedules: number;
  /** The reported schedule's steps, one line each: `reader  redis GET user:1 -> null`. */
  readonly steps: readonly string[];
  /** What the check threw in that schedule (already part of the report), if it threw. */
  readonly checkError: unknown;
  constructor(report: string, token: string, schedules: number, steps: readonly string[], checkError?: unknown) {
    super('RACE_FAILED', report);
    this.report = report;
    this.token = token;
    this.schedules = schedules;
    this.steps = steps;
    this.checkError = checkError;
  }
}

/** An actor can never finish: it has no step to run and awaits something no step of the race will settle. */
export class RaceActorStuckError extends CacheConsistencyError {
  readonly actors: readonly string[];
  constructor(actors: readonly string[], detail: string) {
    super(
      'RACE_ACTOR_STUCK',
      `${actors.length === 1 ? `Actor ${JSON.stringify(actors[0])} never finishes` : `Actors ${actors.map((a) => JSON.stringify(a)).join(', ')} never finish`}: ` +
        `no step is left to run, and ${actors.length === 1 ? 'it awaits' : 'they await'} a promise that nothing in the race will settle.\n${detail}\n` +
        'Typical causes: a promise that never resolves, a reply from a client the race does not instrument (bind a ' +
        'module-level client with bindToActors), or an actor waiting for another actor that already finished. ' +
        'See docs/race.md#actors-that-misbehave.',
    );
    this.actors = actors;
  }
}

/**
 * An actor's code went on after its race or schedule had ended (the race failed, or `race()` was closed) and
 * sent a step: the step was not run, so it cannot change the next schedule's or the next test's state.
 */
export class RaceActorOutlivedError extends CacheConsistencyError {
  readonly actor: string;
  readonly step: string;
  constructor(actor: string, step: string) {
    super(
      'RACE_ACTOR_OUTLIVED',
      `Actor ${JSON.stringify(actor)} sent ${step} after its race had ended; it was not run.\n` +
        'The race failed (or was closed) while this actor was still waiting on something the race does not control ' +
        '(a promise that settled later, a reply from a client the race does not instrument). Its later steps are ' +
        'refused so they cannot change the state the next schedule or test starts from. Fix the failure the race ' +
        'reported first. See docs/race.md#actors-that-misbehave.',
    );
    this.actor = actor;
    this.step = step;
  }
}

/** A step, or an actor's own uninstrumented work, did not complete within stallTimeoutMs. */
export class RaceStepStalledError extends CacheConsistencyError {
  readonly actor: string;
  readonly step: string;
  readonly timeoutMs: number;
  constructor(actor: string, step: string, timeoutMs: number, hint: string) {
    super('RACE_STEP_STALLED', `${actor}: ${step} did not complete within ${timeoutMs} ms.\n${hint}\nSee docs/race.md#limits.`);
    this.actor = actor;
    this.step = step;
    this.timeoutMs = timeoutMs;
  }
}

/** An actor talked over a channel the race cannot see (a connection it opened, a client that is not instrumented). */
export class RaceUninstrumentedIoError extends CacheConsistencyError {
  readonly actor: string;
  readonly what: string;
  constructor(actor: string, what: string) {
    super(
      'RACE_UNINSTRUMENTED_IO',
      `Actor ${JSON.stringify(actor)} ${what}: the race cannot see or order what goes over it, so schedules would ` +
        'not be reproducible.\nGive the service the actor\'s clients (the redis and db passed to the actor), or bind ' +
        'its module-level clients once with bindToActors(client). See docs/race.md#module-level-clients.',
    );
    this.actor = actor;
    this.what = what;
  }
}

/** A gate of race() was never reached: its actor finished or went idle without issuing a matching step. */
export class GateNeverReachedError extends CacheConsistencyError {
  readonly actor: string;
  readonly gate: string;
  constructor(actor: string, gate: string, why: string, steps: readonly string[]) {
    super(
      'GATE_NEVER_REACHED',
      `The gate ${gate} of actor ${JSON.stringify(actor)} was never reached: ${why}.\n` +
        (steps.length ? `Steps ${JSON.stringify(actor)} ran:\n${steps.map((s) => `  ${s}`).join('\n')}\n` : `${JSON.stringify(actor)} ran no step at all.\n`) +
        'Check the command, key or SQL pattern, and that the service uses this actor\'s clients. See docs/race.md#gates.',
    );
    this.actor = actor;
    this.gate = gate;
  }
}

/** A gate of race() was reached but never released before the test ended: its actor is still parked. */
export class GateNotReleasedError extends CacheConsistencyError {
  readonly actor: string;
  readonly gate: string;
  constructor(actor: string, gate: string) {
    super(
      'GATE_NOT_RELEASED',
      `The gate ${gate} of actor ${JSON.stringify(actor)} was reached but never released, so the actor never ` +
        'finished.\nCall gate.release() (and await the actor) before the test ends. See docs/race.md#gates.',
    );
    this.actor = actor;
    this.gate = gate;
  }
}

/** replay(token, scenario): the scenario no longer takes the steps the token names. */
export class ScheduleReplayMismatchError extends CacheConsistencyError {
  readonly token: string;
  readonly position: number;
  constructor(token: string, position: number, problem: string) {
    super(
      'SCHEDULE_REPLAY_MISMATCH',
      `The replay token ${token} does not fit this scenario at step ${position}: ${problem}.\n` +
        'The token belongs to the scenario as it was when the token was printed: a changed service, actor set or ' +
        'setup takes different steps. Run everyInterleaving again for a fresh token.',
    );
    this.token = token;
    this.position = position;
  }
}

/** The same prefix of choices led to different steps on two runs: the scenario is not deterministic. */
export class NondeterministicScenarioError extends CacheConsistencyError {
  readonly position: number;
  constructor(position: number, before: string, now: string) {
    super(
      'RACE_NONDETERMINISTIC',
      `The scenario took different steps on two runs of the same schedule, at step ${position}:\n` +
        `  earlier run could run: ${before}\n  this run could run:    ${now}\n` +
        'Steps must depend only on the database, Redis and the order the race chooses: random values, the clock, ' +
        'state kept between schedules (module-level caches, counters) or uninstrumented I/O break that. Reset such ' +
        'state in setup. See docs/race.md#determinism.',
    );
    this.position = position;
  }
}

/** race(), everyInterleaving() or replay() was called with an unusable scenario or option. */
export class InvalidRaceScenarioError extends CacheConsistencyError {
  readonly option: string;
  constructor(option: string, problem: string) {
    super('INVALID_RACE_SCENARIO', `Invalid race option ${option}: ${problem}\nSee docs/race.md.`);
    this.option = option;
  }
}

/** reduction: 'verify': the reduced search and brute force disagree (final states or verdict). */
export class RaceReductionMismatchError extends CacheConsistencyError {
  readonly detail: string;
  constructor(detail: string) {
    super(
      'RACE_REDUCTION_MISMATCH',
      `The reduced search and the brute-force search disagree: ${detail}\n` +
        'The reduction assumes actors share state only through Redis and the database. Actors that share state in ' +
        'the process (an in-memory cache layer, a module-level Map, a counter) can tell apart orders the reduction ' +
        "treats as the same: run this scenario with strategy: { kind: 'exhaustive', reduction: 'none' }. " +
        'See docs/race.md#reduction.',
    );
    this.detail = detail;
  }
}

/** everyInterleaving() or replay() was not awaited: the test ended (or another call started) while it ran. */
export class RaceNotAwaitedError extends CacheConsistencyError {
  readonly helper: string;
  constructor(helper: 'everyInterleaving' | 'replay', why: string, cause?: unknown) {
    super(
      'RACE_NOT_AWAITED',
      `${helper}(...) was not awaited: ${why}.\nWrite \`await ${helper}(...)\` (or return its promise) in the test: ` +
        'the test must wait until every schedule has run and been checked. See docs/race.md#await-every-call.',
      cause === undefined ? undefined : { cause },
    );
    this.helper = helper;
  }
}

/** The race would have to FLUSHALL a Redis server the preset did not start. */
export class RedisNotOwnedError extends CacheConsistencyError {
  readonly server: string;
  constructor(server: string) {
    super(
      'RACE_REDIS_NOT_OWNED',
      `everyInterleaving resets Redis before every schedule (FLUSHALL), but ${server} is not the redis-server the ` +
        'preset started for this worker, so it may hold data that is not yours.\nUse testRedis() or a client on ' +
        'redisUrl(), or pass allowFlush: true if this server is yours to empty.',
    );
    this.server = server;
  }
}

/** The default error a fault injects into a step. */
export class InjectedFaultError extends CacheConsistencyError {
  readonly step: string;
  constructor(step: string) {
    super('INJECTED_FAULT', `Injected fault: ${step} failed (the race injected this error on purpose)`);
    this.step = step;
  }
}

/** `text` with `prefix` before every line that is not empty (an empty line stays empty: no trailing spaces). */
export function indent(text: string, prefix = '  '): string {
  return text
    .split('\n')
    .map((l) => (l ? prefix + l : l))
    .join('\n');
}

export class ExternalRedisError extends CacheConsistencyError {
  readonly url: string;
  constructor(code: 'EXTERNAL_REDIS_UNREACHABLE' | 'EXTERNAL_REDIS_FLUSH_NOT_ALLOWED' | 'EXTERNAL_REDIS_NOT_EMPTY' | 'EXTERNAL_REDIS_TOO_FEW_DATABASES' | 'EXTERNAL_REDIS_CLAIMED', url: string, message: string, cause?: unknown) {
    super(code, `${message}\nSee docs/external-redis.md.`, { cause });
    this.url = url;
  }
}

// --- real databases in the preset: docs/real-databases.md ---

/** `database.kind` names a driver package (`pg`, `mysql2`) that is not installed: they are optional peers. */
export class DatabaseDriverMissingError extends CacheConsistencyError {
  readonly kind: string;
  readonly packageName: string;
  constructor(kind: string, packageName: string, cause?: unknown) {
    super(
      'DATABASE_DRIVER_MISSING',
      `database.kind '${kind}' needs the package ${packageName}, which is not installed (it is an optional peer ` +
        `dependency of jest-cache-consistency).\nInstall it in your project:\n  npm install --save-dev ${packageName}\n` +
        'See docs/real-databases.md.',
      { cause },
    );
    this.kind = kind;
    this.packageName = packageName;
  }
}

/** The server named by `database.url` did not accept a connection. */
export class DatabaseUnreachableError extends CacheConsistencyError {
  /** The URL, password redacted. */
  readonly url: string;
  constructor(url: string, reason: string, cause?: unknown) {
    super(
      'DATABASE_UNREACHABLE',
      `Cannot connect to the database server at ${url}: ${reason}\nStart the server, or fix database.url ` +
        '(user, password, host, port). See docs/real-databases.md.',
      { cause },
    );
    this.url = url;
  }
}

/** Creating, cloning or dropping the per-worker databases failed (often: the user may not CREATE DATABASE). */
export class DatabaseProvisionError extends CacheConsistencyError {
  readonly url: string;
  readonly statement: string;
  constructor(url: string, statement: string, reason: string, cause?: unknown) {
    super(
      'DATABASE_PROVISION_FAILED',
      `Preparing the per-worker test databases on ${url} failed: ${reason}\n  statement: ${statement}\n` +
        'The user in database.url must be allowed to create and drop databases (PostgreSQL: CREATEDB; ' +
        'MySQL/MariaDB: CREATE and DROP on jcc\\_%.*). See docs/real-databases.md.',
      { cause },
    );
    this.url = url;
    this.statement = statement;
  }
}

/** The reset before a test failed: most often a connection from the previous test still holds a lock. */
export class DatabaseResetError extends CacheConsistencyError {
  readonly database: string;
  constructor(database: string, reason: string, cause?: unknown) {
    super(
      'DATABASE_RESET_FAILED',
      `Resetting the test database ${database} before the test failed: ${reason}\nSee docs/real-databases.md#reset.`,
      { cause },
    );
    this.database = database;
  }
}

/** A pg-mem-only member (`testDb().mem`) was used while `database.kind` is a real database. */
export class DatabaseKindMismatchError extends CacheConsistencyError {
  readonly kind: string;
  constructor(what: string, kind: string) {
    super(
      'DATABASE_KIND_MISMATCH',
      `${what} exists only for the embedded pg-mem database, but database.kind is '${kind}'. Use SQL through ` +
        'testDb().query or testDb().pool instead, or remove database.kind. The race helpers take the pool and a ' +
        'reset: { db: testDb().pool, resetDb: () => testDb().reset() }. See docs/real-databases.md.',
    );
    this.kind = kind;
  }
}

// --- user modules named by options (schema modules, contracts modules) ---

/**
 * A module named by `database.schema` or `consistency.contracts` could not be loaded. `fix` says what to change:
 * for an ES module under Jest without Node's VM modules, the flag Jest needs.
 */
export class ModuleLoadError extends CacheConsistencyError {
  readonly file: string;
  readonly option: string;
  constructor(file: string, option: string, reason: string, fix: string, cause?: unknown) {
    super('MODULE_LOAD_FAILED', `Cannot load the ${option} module ${file}: ${reason}\n${fix}`, { cause });
    this.file = file;
    this.option = option;
  }
}
