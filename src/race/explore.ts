/**
 * `everyInterleaving(scenario)` and `replay(token, scenario)`: run the scenario's actors under the scheduler,
 * once per schedule the strategy picks, from the same starting state every time, and check each outcome.
 */
import type Redis from 'ioredis';
import type { TestDb } from '../db/embedded';
import { callSite } from '../callSite';
import { CacheConsistencyError, InvalidRaceScenarioError, RaceFailureError, RaceNotAwaitedError, RaceReductionMismatchError, RaceUninstrumentedIoError, RedisNotOwnedError } from '../errors';
import { captureKeyspace } from '../keyspace/capture';
import { printKeyspace } from '../keyspace/serializer';
import { closestWord, findUnknownKey, optionKeys } from '../optionKeys';
import { toRedisAdapter } from '../redis/toRedisAdapter';
import type { RedisAdapter, RedisReply } from '../redis/adapter';
import { assertMatchersAwaitedSince, matchersRunning } from '../matchers/pending';
import { readState } from '../preset/state';
import { redisKeyPrefix, testDb, testRedis } from '../runtime/testContext';
import { DELETE_PREFIX_SCRIPT, globEscape } from '../server/externalRedis';
import { ActorLink } from './actorLink';
import { actorDb, actorRedis, closeConnections, tidyConnections } from './connections';
import { dbHandleKind } from './dbSteps';
import { KeyWriterRegistry } from './keyWriters';
import { trackExploration, type ExplorationSignal } from './openRaces';
import { guardUninstrumented, redisClientKind } from './redisSteps';
import { formatReport, formatTimeline } from './report';
import { raceRedactor, type StepRedactor } from './redactSteps';
import type { RedactRule } from '../keyspace/redact';
import { ResourceTracker } from './resourceTracker';
import { DporExplorer, ScheduleCut } from './dpor';
import { describeOutcome, ScheduleRun, type ActorOutcome, type Chooser, type FaultRule, type ScheduleResult } from './schedule';
import type { StepRecord } from './step';
import { patternFromArgs, type StepPattern } from './stepPattern';
import { DfsExplorer, explorerFor, REDUCTIONS, reductionOf, ReplayExplorer, type Explorer, type Reduction, type Strategy } from './strategies';
import { decodeToken, encodeToken } from './token';
import { installVirtualTimers } from './virtualTimers';

export interface ActorArgs<R, D> {
  /** The actor's own Redis client: same library and options as the scenario's, its own connection. */
  readonly redis: R;
  /** The actor's own database handle, shaped like the scenario's. */
  readonly db: D;
  /** The actor's name. */
  readonly actor: string;
}

export interface SetupArgs<R, D> {
  /** The scenario's own (uninstrumented) Redis client. */
  readonly redis: R;
  /** The scenario's own database handle. */
  readonly db: D;
}

export interface CheckArgs<R, D> extends SetupArgs<R, D> {
  /** What each actor returned or threw. */
  readonly outcomes: Readonly<Record<string, ActorOutcome>>;
  /** The schedule's steps, in order. */
  readonly steps: readonly StepRecord[];
  /** The schedule as an ASCII swimlane timeline. */
  readonly timeline: string;
}

export interface FaultSpec {
  /** The actor whose step fails. */
  readonly actor: string;
  /** Which of its steps: `{ redis: 'DEL' }`, `{ db: 'UPDATE' }`, a predicate... (see StepPattern). */
  readonly at: StepPattern;
  /** The nth matching step of that actor (1-based). Default 1. */
  readonly nth?: number;
  /**
   * 'before' (default): the step is never sent, the call rejects. 'after': the step runs on the server, and
   * the reply is lost: the call rejects anyway (a connection dropped after the server acted).
   */
  readonly when?: 'before' | 'after';
  /** The error the call rejects with (or a function making it). Default: an InjectedFaultError. */
  readonly error?: unknown;
}

export interface Scenario<R extends object = Redis, D = TestDb> {
  /** Each actor is an async function of its own clients. Declaration order is the actors' column order. */
  readonly actors: Readonly<Record<string, (args: ActorArgs<R, D>) => unknown>>;
  /** Runs before every schedule, after the reset, with the scenario's own clients. */
  readonly setup?: (args: SetupArgs<R, D>) => unknown;
  /** Runs after every schedule; throwing (a failed expect) marks the schedule as failing. */
  readonly check?: (args: CheckArgs<R, D>) => unknown;
  /** Default 'exhaustive'. */
  readonly strategy?: Strategy;
  /** The Redis client to duplicate for actors, and to reset and check with. Default testRedis(). */
  readonly redis?: R;
  /** The database handle. Default testDb(). */
  readonly db?: D;
  /** Errors to inject into chosen steps, in every schedule. */
  readonly faults?: readonly FaultSpec[];
  /**
   * How to put the database back in its starting state before each schedule. testDb() is snapshotted when
   * everyInterleaving starts and restored in O(1): leave this out. Other databases need it (e.g. a TRUNCATE).
   */
  readonly resetDb?: (db: D) => unknown;
  /** Let the race FLUSHALL a Redis server the preset did not start. Default false. */
  readonly allowFlush?: boolean;
  /** A step (or an actor's own uninstrumented work) that takes longer fails with RACE_STEP_STALLED. Default 2000. */
  readonly stallTimeoutMs?: number;
  /** Schedules the shrinking may run to find a failure with fewer context switches. Default 500. */
  readonly shrinkBudget?: number;
  /**
   * Secrets the report never shows (step arguments and replies, last writers, outcomes, the check's failure):
   * the rules of captureKeyspace's `redact`, added to the preset's (docs/configuration.md#redact).
   */
  readonly redact?: RedactRule | readonly RedactRule[];
}

export interface RaceSummary {
  /** Schedules run (for the reduced search, also those cut short as repeats of orders already covered). */
  readonly schedules: number;
  /** True when every schedule of the (bounded) space was run: exhaustive only. */
  readonly complete: boolean;
  readonly strategy: string;
  /**
   * The reduced search only: the distinct orders covered (Mazurkiewicz traces: orders up to swapping steps that
   * commute), each run once to its end. With `complete`, every order of the steps is equivalent to one of them.
   */
  readonly classes?: number;
  /** reduction: 'verify' only: the brute-force search it was checked against (its schedules, its distinct final states). */
  readonly verified?: { readonly schedules: number; readonly states: number };
}

const hasBound = (s: Strategy | undefined) => typeof s === 'object' && s.kind === 'exhaustive' && s.preemptionBound !== undefined;

interface Verdict {
  readonly result: ScheduleResult;
  readonly failed: boolean;
  readonly checkError: unknown;
  readonly unprovoked: Array<{ actor: string; error: unknown }>;
  readonly writers: KeyWriterRegistry;
  readonly token: string;
  /** The final state, when asked for (reduction: 'verify'). */
  readonly state?: string;
}

function invalid(option: string, problem: string): never {
  throw new InvalidRaceScenarioError(option, problem);
}

/** The known keys of a scenario, and of its nested options (the types keep them complete). */
const SCENARIO_KEYS = optionKeys<Scenario>({
  actors: true, setup: true, check: true, strategy: true, redis: true, db: true, faults: true, resetDb: true, allowFlush: true,
  stallTimeoutMs: true, shrinkBudget: true, redact: true,
});
const FAULT_KEYS = optionKeys<FaultSpec>({ actor: true, at: true, nth: true, when: true, error: true });
type StrategyObject = Extract<Strategy, object>;
const STRATEGY_KEYS: Record<StrategyObject['kind'], readonly string[]> = {
  exhaustive: optionKeys<Extract<StrategyObject, { kind: 'exhaustive' }>>({ kind: true, reduction: true, preemptionBound: true, maxSchedules: true }),
  random: optionKeys<Extract<StrategyObject, { kind: 'random' }>>({ kind: true, seed: true, runs: true }),
  pct: optionKeys<Extract<StrategyObject, { kind: 'pct' }>>({ kind: true, seed: true, runs: true, depth: true }),
};

/** Throws INVALID_RACE_SCENARIO for the first key of `options` not in `known`, with a "did you mean". */
function refuseUnknownKeys(options: object, known: readonly string[], path?: string): void {
  const unknown = findUnknownKey(options, known);
  if (unknown) invalid(path === undefined ? unknown.key : `${path}.${unknown.key}`, unknown.problem);
}

function validate(scenario: unknown): asserts scenario is Scenario<object, unknown> {
  if (scenario === null || typeof scenario !== 'object') invalid('scenario', 'pass an object { actors, setup?, check?, strategy? }');
  const s = scenario as Record<string, unknown>;
  refuseUnknownKeys(s, SCENARIO_KEYS);
  if (!s.actors || typeof s.actors !== 'object') invalid('actors', 'an object of named async functions, e.g. { writer: ({ redis, db }) => ..., reader: ... }');
  const names = Object.keys(s.actors as object);
  if (names.length === 0) invalid('actors', 'at least one actor is needed');
  for (const n of names) if (typeof (s.actors as Record<string, unknown>)[n] !== 'function') invalid(`actors.${n}`, 'must be a function ({ redis, db, actor }) => ...');
  for (const k of ['setup', 'check', 'resetDb'] as const) if (s[k] !== undefined && typeof s[k] !== 'function') invalid(k, 'must be a function');
  if (s.stallTimeoutMs !== undefined && !(typeof s.stallTimeoutMs === 'number' && s.stallTimeoutMs > 0)) invalid('stallTimeoutMs', 'a positive number of ms');
  if (s.redact !== undefined) raceRedactor(s.redact as RedactRule[]); // a bad rule: INVALID_RACE_SCENARIO naming it
  if (s.shrinkBudget !== undefined && !(Number.isInteger(s.shrinkBudget) && (s.shrinkBudget as number) >= 0)) invalid('shrinkBudget', 'a non-negative integer');
  const st = s.strategy as Strategy | undefined;
  if (st !== undefined && !(st === 'exhaustive' || st === 'random' || st === 'pct')) {
    const kind = (st as { kind?: unknown } | null)?.kind;
    if (typeof st !== 'object' || st === null || typeof kind !== 'string' || !Object.hasOwn(STRATEGY_KEYS, kind)) {
      const close = typeof st === 'string' ? closestWord(st, Object.keys(STRATEGY_KEYS)) : undefined;
      invalid('strategy', `'exhaustive', 'random', 'pct', or { kind: 'exhaustive' | 'random' | 'pct', ... }${close ? `. Did you mean '${close}'?` : ''}`);
    }
    refuseUnknownKeys(st, STRATEGY_KEYS[kind as StrategyObject['kind']], 'strategy');
    const o = st as { seed?: unknown; runs?: unknown; depth?: unknown; preemptionBound?: unknown; maxSchedules?: unknown };
    if (o.seed !== undefined && !Number.isInteger(o.seed)) invalid('strategy.seed', 'an integer');
    for (const k of ['runs', 'depth', 'maxSchedules'] as const) if (o[k] !== undefined && !(Number.isInteger(o[k]) && (o[k] as number) > 0)) invalid(`strategy.${k}`, 'a positive integer');
    if (o.preemptionBound !== undefined && !(Number.isInteger(o.preemptionBound) && (o.preemptionBound as number) >= 0)) invalid('strategy.preemptionBound', 'a non-negative integer');
    const reduction = (st as { reduction?: unknown }).reduction;
    if (reduction !== undefined && !REDUCTIONS.includes(reduction as Reduction)) {
      const close = typeof reduction === 'string' ? closestWord(reduction, REDUCTIONS) : undefined;
      invalid('strategy.reduction', `${REDUCTIONS.map((r) => `'${r}'`).join(', ')}${close ? `. Did you mean '${close}'?` : ''}`);
    }
  }
  if (s.faults !== undefined) {
    if (!Array.isArray(s.faults)) invalid('faults', 'an array of { actor, at, nth?, when?, error? }');
    (s.faults as FaultSpec[]).forEach((f, i) => {
      if (!f || typeof f !== 'object') invalid(`faults[${i}]`, 'an object { actor, at, nth?, when?, error? }');
      refuseUnknownKeys(f, FAULT_KEYS, `faults[${i}]`);
      if (!names.includes(f.actor)) invalid(`faults[${i}].actor`, `${JSON.stringify(f.actor)} is not one of the actors (${names.join(', ')})`);
      try {
        patternFromArgs([f.at], `faults[${i}].at`);
      } catch (e) {
        if (e instanceof InvalidRaceScenarioError) throw e;
        invalid(`faults[${i}].at`, (e as Error).message);
      }
      if (f.when !== undefined && f.when !== 'before' && f.when !== 'after') invalid(`faults[${i}].when`, "'before' or 'after'");
      if (f.nth !== undefined && !(Number.isInteger(f.nth) && f.nth > 0)) invalid(`faults[${i}].nth`, 'a positive integer');
    });
  }
}

/**
 * What this race may empty on the server, and how: the whole server the preset started (FLUSHALL), the
 * worker's own database index on an external server (FLUSHDB, only with `allowFlush`), or the worker's key
 * prefix there (nothing else is ever read back or deleted).
 */
interface RedisScope {
  empty: readonly [string, ...Array<string | Buffer | number>];
  match?: string;
}

function redisScope(): RedisScope {
  const external = readState()?.external;
  if (external?.isolation === 'prefix') {
    const prefix = `${globEscape(redisKeyPrefix())}*`;
    return { empty: ['EVAL', DELETE_PREFIX_SCRIPT, 0, prefix], match: prefix };
  }
  if (external?.isolation === 'database') return { empty: ['FLUSHDB'] };
  return { empty: ['FLUSHALL'] };
}

/** The Redis state before the race, and how to get back to it. */
class RedisStart {
  #entries: Array<{ key: Buffer; ttl: number; dump: Buffer }> = [];
  /** Replicas of each master of a Cluster (asked once per race: the topology stays put while it runs). */
  #replicas: number[] = [];
  constructor(
    private readonly adapter: RedisAdapter,
    private readonly scope: RedisScope,
  ) {}

  static async capture(adapter: RedisAdapter, scope: RedisScope): Promise<RedisStart> {
    const start = new RedisStart(adapter, scope);
    if (adapter.kind === 'ioredis-cluster') start.#replicas = await Promise.all(adapter.shards().map(replicaCount));
    const keys: Buffer[] = [];
    for await (const page of adapter.scan(scope.match === undefined ? {} : { match: scope.match })) keys.push(...page);
    if (keys.length > 0) {
      const replies = await adapter.batch(keys.flatMap((k) => [['PTTL', k] as const, ['DUMP', k] as const]));
      keys.forEach((key, i) => {
        const ttl = replies[2 * i];
        const dump = replies[2 * i + 1];
        if (Buffer.isBuffer(dump)) start.#entries.push({ key, ttl: typeof ttl === 'number' && ttl > 0 ? ttl : 0, dump });
      });
    }
    return start;
  }

  async restore(): Promise<void> {
    // Every master of a Cluster holds its own part of the keyspace (its replicas follow it).
    const shards = this.adapter.shards();
    await Promise.all(shards.map((shard) => shard.send(...this.scope.empty)));
    if (this.#entries.length > 0) {
      const replies = await this.adapter.batch(this.#entries.map((e) => ['RESTORE', e.key, e.ttl, e.dump, 'REPLACE'] as const));
      const failed = replies.find((r): r is Error => r instanceof Error);
      if (failed) throw failed;
    }
    // Replicas (a cluster with replicasPerMaster): an actor reading from one must see this start, not the
    // last schedule's end. WAIT on a master's connection covers what was sent over it.
    await Promise.all(
      shards.map(async (shard, i) => {
        const replicas = this.#replicas[i] ?? 0;
        if (replicas > 0) await shard.send('WAIT', replicas, 1000);
      }),
    );
  }
}

/** How many replicas follow `shard` (a master). */
async function replicaCount(shard: RedisAdapter): Promise<number> {
  const info = (await shard.send('INFO', 'replication')) as RedisReply;
  return Number(/connected_slaves:(\d+)/.exec(Buffer.isBuffer(info) ? info.toString('utf8') : '')?.[1] ?? 0);
}

/** The run ids of the servers `adapter` talks to (every master of a Cluster). */
async function runIds(adapter: RedisAdapter): Promise<string[]> {
  return Promise.all(
    adapter.shards().map(async (shard) => {
      const info = (await shard.send('INFO', 'server')) as RedisReply;
      const text = Buffer.isBuffer(info) ? info.toString('utf8') : '';
      return /run_id:(\w+)/.exec(text)?.[1] ?? '';
    }),
  );
}

async function checkOwned(adapter: RedisAdapter, base: object, allowFlush: boolean | undefined): Promise<void> {
  const state = readState();
  if (state?.external) {
    // An external server (redis.url): only testRedis() is known to sit on this worker's own database index
    // or prefix; any other client may see other people's data, whatever allowFlush says.
    if (base === testRedis()) return;
    throw new RedisNotOwnedError(adapter.describe());
  }
  if (allowFlush) return;
  if (!state) throw new RedisNotOwnedError(adapter.describe());
  const own = testRedis();
  if (own === base) return;
  // Owned: every server it talks to is one the preset started for this worker (a Cluster knows its
  // masters only once it is ready).
  const ownAdapter = toRedisAdapter(own)!;
  await ownAdapter.ready();
  const [theirs, ours] = await Promise.all([runIds(adapter), runIds(ownAdapter)]);
  if (theirs.length === 0 || theirs.some((id) => !id || !ours.includes(id))) throw new RedisNotOwnedError(adapter.describe());
}

/** Everything one everyInterleaving/replay call holds for its whole run. */
class RaceSession {
  readonly links: ActorLink[];
  readonly names: string[];
  readonly tracker = new ResourceTracker();
  readonly faults: FaultRule[];
  readonly redactor: StepRedactor;
  #restoreTimers: (() => void) | undefined;
  #unguard: (() => void) | undefined;
  #current: ScheduleRun | undefined;
  #redisStart!: RedisStart;
  #resetDb: () => Promise<void> = async () => {};
  #writers: KeyWriterRegistry | undefined;

  private constructor(
    readonly scenario: Scenario<object, unknown>,
    readonly redis: object,
    readonly db: unknown,
  ) {
    this.names = Object.keys(scenario.actors);
    this.redactor = raceRedactor(scenario.redact);
    this.links = this.names.map((name, i) => new ActorLink(name, i));
    this.faults = (scenario.faults ?? []).map((f) => ({
      actor: f.actor,
      at: patternFromArgs([f.at]),
      nth: f.nth ?? 1,
      when: f.when ?? 'before',
      error: () => (typeof f.error === 'function' ? (f.error as () => unknown)() : f.error !== undefined ? f.error : undefined),
    }));
  }

  static async open(scenario: Scenario<object, unknown>): Promise<RaceSession> {
    const preset = readState() !== undefined;
    const redis = scenario.redis ?? (preset ? testRedis() : undefined);
    if (!redis || !redisClientKind(redis)) {
      invalid('redis', redis ? 'an ioredis client or Cluster, or a node-redis client (connected)' : 'no Redis client: pass redis (the preset is not active, so there is no testRedis())');
    }
    let defaultReset: (() => Promise<void>) | undefined;
    let db: unknown = scenario.db;
    if (db === undefined && preset) {
      const t = testDb();
      const real = (t as { kind?: unknown }).kind;
      if (real === 'postgres' || real === 'mysql') {
        // The preset's real database (database.kind): its pool, reset to right after the schema.
        db = t.pool;
        defaultReset = () => t.reset();
      } else db = t;
    }
    if (db !== undefined && !dbHandleKind(db)) {
      invalid('db', 'testDb(), a node-postgres or pg-mem Pool or Client, a mysql2 pool, a { query(sql, params) } object or a function (sql, params) => rows');
    }
    const session = new RaceSession(scenario, redis, db);
    const adapter = toRedisAdapter(redis)!;
    await adapter.ready();
    await checkOwned(adapter, redis, scenario.allowFlush);
    session.#redisStart = await RedisStart.capture(adapter, redisScope());
    if (scenario.resetDb) {
      const reset = scenario.resetDb;
      session.#resetDb = async () => {
        await reset(db);
      };
    } else if (defaultReset) {
      session.#resetDb = defaultReset;
    } else if (db !== undefined && dbHandleKind(db) === 'testDb') {
      const t = db as TestDb;
      await t.ready;
      const backup = t.mem.backup();
      session.#resetDb = async () => backup.restore();
    } else if (db !== undefined && dbHandleKind(db) !== 'function' && dbHandleKind(db) !== 'queryable') {
      invalid('resetDb', 'this database cannot be snapshotted by the race: pass resetDb: (db) => ... that puts it back in its starting state (e.g. TRUNCATE the tables your setup fills)');
    }
    try {
      await Promise.all(
        session.links.flatMap((link) => [actorRedis(link, redis).ready(), ...(db !== undefined ? [actorDb(link, db as object).ready()] : [])]),
      );
    } catch (e) {
      await session.close();
      throw e;
    }
    session.tracker.watch(session.links);
    session.#restoreTimers = installVirtualTimers(globalThis, { onRealTimerCleared: (id) => session.tracker.forgetId(id) });
    session.#unguard = guardUninstrumented(redis, (link, command) => {
      const error = new RaceUninstrumentedIoError(link.name, `sent ${command} over a Redis client that is neither its own nor bound with bindToActors`);
      session.#current?.fail(error);
      return error;
    });
    return session;
  }

  /**
   * One schedule: reset, setup, the actors under `chooser`, tidy, check. With `fingerprint`, the verdict also
   * carries the final state before the check (keyspace, the embedded database's tables, the actors' outcomes).
   */
  async run(chooser: Chooser, fingerprint = false): Promise<Verdict> {
    const matchersBefore = matchersRunning();
    await this.#redisStart.restore();
    await this.#resetDb();
    await this.scenario.setup?.({ redis: this.redis, db: this.db });
    // Checked here too: a matcher the setup left running would otherwise often finish before the check.
    await assertMatchersAwaitedSince(matchersBefore, "the scenario's setup");
    this.tracker.clear();
    const schedule = new ScheduleRun(this.links, {
      tracker: this.tracker,
      faults: this.faults,
      stallTimeoutMs: this.scenario.stallTimeoutMs ?? 2000,
      redactor: this.redactor,
    });
    this.#current = schedule;
    const starts = this.links.map((link) => {
      const fn = this.scenario.actors[link.name]!;
      const args = {
        redis: actorRedis(link, this.redis).client,
        db: this.db !== undefined ? actorDb(link, this.db as object).handle : undefined,
        actor: link.name,
      };
      return { link, run: () => fn(args) };
    });
    let result: ScheduleResult;
    try {
      result = await schedule.run(starts, chooser);
    } catch (error) {
      if (error instanceof CacheConsistencyError) {
        if (schedule.records.length > 0) {
          const extra = `\n\nThe schedule so far:\n${indent(formatTimeline(this.names, schedule.records))}`;
          if (typeof error.stack === 'string') error.stack = error.stack.replace(error.message, error.message + extra);
          error.message += extra;
        }
        trimStack(error);
      }
      throw error;
    }
    await Promise.all(this.links.map((link) => tidyConnections(link)));
    const state = fingerprint ? await this.#finalState(result) : undefined;
    const writers = new KeyWriterRegistry(result.records, this.redactor.redaction.rules);
    this.#writers?.deactivate();
    this.#writers = writers;
    writers.activate();
    let checkError: unknown;
    const names = this.names;
    try {
      await this.scenario.check?.({
        redis: this.redis,
        db: this.db,
        outcomes: result.outcomes,
        steps: result.records,
        get timeline() {
          return formatTimeline(names, result.records);
        },
      });
    } catch (error) {
      checkError = error ?? new Error('the check threw undefined');
    }
    // A matcher left running by an actor or the check: its verdict would be lost (or land in the
    // next schedule). It is waited for, and fails this schedule.
    try {
      await assertMatchersAwaitedSince(matchersBefore, "the scenario's actors or check");
    } catch (error) {
      checkError ??= error;
    }
    const unprovoked = this.names
      .map((name) => ({ name, o: result.outcomes[name]! }))
      .filter(({ o }) => !o.ok && !o.provoked)
      .map(({ name, o }) => ({ actor: name, error: (o as { error: unknown }).error }));
    return {
      result,
      failed: checkError !== undefined || unprovoked.length > 0 || result.backgroundErrors.length > 0,
      checkError,
      unprovoked,
      writers,
      token: encodeToken(result.choices),
      ...(state !== undefined ? { state } : {}),
    };
  }

  /** The state a schedule ends in, as text: equal exactly when two schedules end in the same state. */
  async #finalState(result: ScheduleResult): Promise<string> {
    const keyspace = printKeyspace(await captureKeyspace(this.redis), { min: true });
    let tables = '';
    if (this.db !== undefined && dbHandleKind(this.db) === 'testDb') {
      const mem = (this.db as TestDb).mem;
      tables = [...mem.public.listTables()]
        .map((t) => `${t.name}: ${JSON.stringify(mem.public.many(`SELECT * FROM "${t.name.replace(/"/g, '""')}"`).map((row) => Object.entries(row).sort(([a], [b]) => (a < b ? -1 : 1))).sort((a, b) => (JSON.stringify(a) < JSON.stringify(b) ? -1 : 1)))}`)
        .sort()
        .join('\n');
    }
    const outcomes = this.names.map((name) => `${name} ${describeOutcome(result.outcomes[name])}`).join('\n');
    return `${keyspace}\n${tables}\n${outcomes}`;
  }

  /** Rolls back what every actor's connections left open, all at once (one may be waiting on another's lock). */
  async tidyAll(): Promise<void> {
    await Promise.allSettled(this.links.map((l) => tidyConnections(l)));
  }

  /** Puts Redis and the database back as they were before the call. */
  async restoreStart(): Promise<void> {
    await this.#redisStart.restore();
    await this.#resetDb();
  }

  async close(): Promise<void> {
    this.#unguard?.();
    this.#unguard = undefined;
    this.#restoreTimers?.();
    this.#restoreTimers = undefined;
    this.tracker.stop();
    this.#writers?.deactivate();
    await Promise.allSettled(this.links.map((l) => closeConnections(l)));
  }
}

function indent(text: string): string {
  return text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');
}

/** The test ended without awaiting the call (the preset's afterEach set the signal): no further schedule runs. */
function stopIfAbandoned(signal: ExplorationSignal, kind: 'everyInterleaving' | 'replay'): void {
  if (signal.stopped) throw new RaceNotAwaitedError(kind, 'the test ended while it was still running');
}

/** The test running now (Jest's expect state), to tell concurrent tests' calls apart. */
function currentTest(): object | undefined {
  const state = (globalThis as { expect?: { getState?: () => { currentTestIdentity?: () => object } } }).expect?.getState?.();
  return state?.currentTestIdentity?.();
}

/** Finds a failing schedule with fewer context switches: iterative preemption bounding, within a budget. */
async function shrink(session: RaceSession, failing: Verdict, budget: number, signal: ExplorationSignal): Promise<{ verdict: Verdict; runs: number }> {
  let runs = 0;
  let best = failing;
  for (let bound = 0; bound < best.result.preemptions && runs < budget; bound++) {
    const explorer = new DfsExplorer({ preemptionBound: bound, maxSchedules: budget - runs });
    for (let chooser = explorer.next(); chooser; chooser = explorer.next()) {
      stopIfAbandoned(signal, 'everyInterleaving');
      runs++;
      const v = await session.run(chooser);
      if (v.failed && (v.result.preemptions < best.result.preemptions || (v.result.preemptions === best.result.preemptions && v.result.switches < best.result.switches))) {
        best = v;
        break;
      }
    }
    if (best !== failing) break;
  }
  return { verdict: best, runs };
}

/** Drops the race helpers' own frames from a stack, so Jest points at the test that ran the race. */
export function trimStack<E extends Error>(error: E): E {
  if (typeof error.stack === 'string') {
    const lines = error.stack.split('\n');
    const firstFrame = lines.findIndex((l) => /^\s+at /.test(l));
    if (firstFrame > 0) {
      const frames = lines.slice(firstFrame).filter((l) => !/[\\/]race[\\/][A-Za-z]+\.(?:ts|js)/.test(l));
      error.stack = [...lines.slice(0, firstFrame), ...frames].join('\n');
    }
  }
  return error;
}

function stepLines(session: RaceSession, v: Verdict): string[] {
  return v.result.records.map((r) => session.redactor.scrub(`${r.actor}  ${r.fault ? '! ' : ''}${r.label}`));
}

/**
 * The check's own error, scrubbed of every value the `redact` rules replaced (its message is part of the
 * report; the error itself travels on as RaceFailureError.checkError). A plain `expect` in the check quotes
 * what it received: that value is scrubbed here, in place.
 */
function scrubCheckError(session: RaceSession, error: unknown): unknown {
  const r = session.redactor;
  if (!r.active || !(error instanceof Error)) return error;
  error.message = r.scrub(error.message);
  if (typeof error.stack === 'string') error.stack = r.scrub(error.stack);
  const m = (error as { matcherResult?: Record<string, unknown> }).matcherResult;
  if (m && typeof m === 'object') {
    (error as { matcherResult?: unknown }).matcherResult = {
      ...m,
      ...(typeof m.message === 'string' && { message: r.scrub(m.message) }),
      ...('actual' in m && { actual: r.scrubValue(m.actual) }),
      ...('expected' in m && { expected: r.scrubValue(m.expected) }),
    };
  }
  return error;
}

function report(session: RaceSession, v: Verdict, headline: string): string {
  return formatReport({
    headline,
    actors: session.names,
    records: v.result.records,
    outcomes: v.result.outcomes,
    checkError: v.checkError,
    unprovoked: v.unprovoked,
    background: v.result.backgroundErrors,
    writers: v.writers,
    token: v.token,
    switches: v.result.switches,
    preemptions: v.result.preemptions,
    ...(session.redactor.active && { scrub: session.redactor }),
  });
}

async function explore(scenario: Scenario<object, unknown>, explorer: Explorer, kind: 'everyInterleaving' | 'replay', signal: ExplorationSignal, verify = false): Promise<RaceSummary> {
  const session = await RaceSession.open(scenario);
  try {
    return verify ? await verifyReduction(session, scenario, signal) : await search(session, scenario, explorer, kind, signal);
  } finally {
    try {
      // A schedule abandoned by an error may have left a transaction open (its locks would block the reset).
      await session.tidyAll();
      await session.restoreStart();
    } finally {
      await session.close();
    }
  }
}

/** Runs the explorer's schedules; rejects with the report of the first failing one (shrunk). */
async function search(
  session: RaceSession,
  scenario: Scenario<object, unknown>,
  explorer: Explorer,
  kind: 'everyInterleaving' | 'replay',
  signal: ExplorationSignal,
  onState?: (state: string, verdict: Verdict) => void,
): Promise<RaceSummary> {
  let count = 0;
  for (let chooser = explorer.next(); chooser; chooser = explorer.next()) {
    stopIfAbandoned(signal, kind);
    count++;
    let verdict: Verdict;
    try {
      verdict = await session.run(chooser, onState !== undefined);
    } catch (error) {
      // The reduced search stopped a schedule whose every continuation was already covered.
      if (error instanceof ScheduleCut) {
        await session.tidyAll();
        continue;
      }
      throw error;
    }
    explorer.done(verdict.result);
    if (verdict.state !== undefined) onState?.(verdict.state, verdict);
    if (!verdict.failed) continue;
    if (kind === 'replay') {
      throw trimStack(new RaceFailureError(report(session, verdict, `replay: the schedule ${verdict.token} fails.`), verdict.token, 1, stepLines(session, verdict), scrubCheckError(session, verdict.checkError)));
    }
    const budget = scenario.shrinkBudget ?? 500;
    const { verdict: best, runs } = await shrink(session, verdict, budget, signal);
    const final = best;
    const shrunk =
      best === verdict
        ? `It has ${best.result.switches} context switch${best.result.switches === 1 ? '' : 'es'}; no failing schedule with fewer preemptions was found${runs ? ` (${runs} more schedule${runs === 1 ? '' : 's'} tried)` : ''}.`
        : `Shrunk from ${verdict.result.switches} to ${best.result.switches} context switch${best.result.switches === 1 ? '' : 'es'} (${runs} more schedule${runs === 1 ? '' : 's'} tried).`;
    const headline = `everyInterleaving found a failing schedule: schedule ${count} of the ${explorer.name} search failed. ${shrunk}`;
    throw trimStack(new RaceFailureError(report(session, final, headline), final.token, count, stepLines(session, final), scrubCheckError(session, final.checkError)));
  }
  return {
    schedules: count,
    complete: explorer.complete,
    strategy: explorer.name,
    ...(explorer instanceof DporExplorer ? { classes: explorer.classes } : {}),
  };
}

/**
 * reduction: 'verify': brute force, then the reduced search, from the same start; both must reach the same set of
 * final states and the same verdict, else RACE_REDUCTION_MISMATCH names a state one of them missed.
 */
async function verifyReduction(session: RaceSession, scenario: Scenario<object, unknown>, signal: ExplorationSignal): Promise<RaceSummary> {
  const options = typeof scenario.strategy === 'object' && scenario.strategy.kind === 'exhaustive' ? { maxSchedules: scenario.strategy.maxSchedules } : {};
  const run = async (explorer: Explorer) => {
    const states = new Map<string, string>();
    try {
      const summary = await search(session, scenario, explorer, 'everyInterleaving', signal, (state, v) => {
        if (!states.has(state)) states.set(state, v.token);
      });
      return { summary, states, failure: undefined };
    } catch (error) {
      if (error instanceof RaceFailureError) return { summary: undefined, states, failure: error };
      throw error;
    }
  };
  const brute = await run(new DfsExplorer(options));
  const reduced = await run(new DporExplorer(options));
  if (!!brute.failure !== !!reduced.failure) {
    throw trimStack(
      new RaceReductionMismatchError(
        brute.failure
          ? `the brute-force search fails (schedule ${brute.failure.token}) but the reduced search passes`
          : `the reduced search fails (schedule ${reduced.failure!.token}) but the brute-force search passes`,
      ),
    );
  }
  if (reduced.failure) throw reduced.failure;
  const missed = [...brute.states].find(([state]) => !reduced.states.has(state));
  const extra = [...reduced.states].find(([state]) => !brute.states.has(state));
  if (missed || extra) {
    const [state, token] = (missed ?? extra)!;
    throw trimStack(
      new RaceReductionMismatchError(
        `${missed ? 'the brute-force' : 'the reduced'} search reaches a final state the ${missed ? 'reduced' : 'brute-force'} search never reaches ` +
          `(schedule ${token}; ${brute.states.size} distinct final states by brute force, ${reduced.states.size} reduced):\n${indent(state)}`,
      ),
    );
  }
  return { ...reduced.summary!, verified: { schedules: brute.summary!.schedules, states: brute.states.size } };
}

/**
 * Runs the scenario's actors in every order of their steps (or the orders a strategy picks), from the same
 * starting state each time, and checks each result. Resolves with how many schedules ran; rejects with a
 * RaceFailureError whose message is the report of the first failing schedule, shrunk to the fewest context
 * switches found, with a replay token.
 *
 * @example
 * await everyInterleaving({
 *   setup: ({ db }) => db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
 *   actors: {
 *     writer: ({ redis, db }) => new UserCache(db, redis).updateUser(1, 'Jerry'),
 *     reader: ({ redis, db }) => new UserCache(db, redis).getUser(1),
 *   },
 *   check: async ({ redis, db }) => { await expect(redis).toBeConsistentWith(db); },
 * });
 */
export function everyInterleaving<R extends object = Redis, D = TestDb>(scenario: Scenario<R, D>): Promise<RaceSummary> {
  return trackExploration('everyInterleaving', currentTest(), callSite(), (signal) => {
    validate(scenario);
    const reduction = reductionOf(scenario.strategy);
    return explore(scenario as unknown as Scenario<object, unknown>, explorerFor(scenario.strategy, reduction), 'everyInterleaving', signal, reduction === 'verify' && !hasBound(scenario.strategy));
  });
}

/**
 * Reruns exactly the schedule a report's token names. Rejects with the same report when it still fails;
 * resolves `{ schedules: 1 }` when it passes now (after a fix).
 */
export function replay<R extends object = Redis, D = TestDb>(token: string, scenario: Scenario<R, D>): Promise<RaceSummary> {
  return trackExploration('replay', currentTest(), callSite(), (signal) => {
    validate(scenario);
    const choices = decodeToken(token);
    if (typeof choices === 'string') invalid('token', `${JSON.stringify(token)}: ${choices}`);
    const names = Object.keys(scenario.actors);
    const unknown = [...new Set(choices.map((c) => c.actor))].filter((a) => !names.includes(a));
    if (unknown.length) invalid('token', `it names actors ${unknown.map((u) => JSON.stringify(u)).join(', ')} that the scenario does not have (${names.join(', ')})`);
    return explore(scenario as unknown as Scenario<object, unknown>, new ReplayExplorer(token, choices), 'replay', signal);
  });
}
