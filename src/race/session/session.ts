/**
 * A race session: everything one everyInterleaving/replay call holds for its whole run (the actors' links and
 * connections, the starting state, the guards and virtual timers), and one schedule's run: reset, setup, the
 * actors under a chooser, tidy, check.
 */
import { assertMatchersAwaitedSince, matchersRunning } from '../../matchers/pending';
import { CacheConsistencyError, indent, InvalidRaceScenarioError } from '../../errors';
import { toRedisAdapter } from '../../redis/toRedisAdapter';
import { captureKeyspace } from '../../keyspace/capture';
import { printKeyspace } from '../../keyspace/serializer';
import type { TestDb } from '../../db/embedded';
import type { Scenario } from '../explore';
import { ActorLink } from '../instrument/actorLink';
import { actorDb, actorRedis, closeConnections, tidyConnections } from '../instrument/connections';
import { dbHandleKind, poolCapacity } from '../instrument/dbSteps';
import { ResourceTracker } from '../instrument/resourceTracker';
import { installVirtualTimers, onScheduleClock } from '../instrument/virtualTimers';
import { RaceGuards } from '../instrument/guards';
import { KeyWriterRegistry } from '../report/keyWriters';
import { raceRedactor, type StepRedactor } from '../report/redactSteps';
import { formatTimeline } from '../report/report';
import { trimStack } from '../report/stack';
import { describeOutcome, ScheduleRun, type Chooser, type FaultRule, type ScheduleResult } from '../schedule/run';
import { patternFromArgs } from '../schedule/stepPattern';
import { encodeToken } from '../schedule/token';
import { checkOwned } from './ownership';
import { databaseReset, redisScope, RedisStart } from './reset';
import { resolveRaceClients } from './resolve';

/** One schedule's result and what the report needs of it. */
export interface Verdict {
  readonly result: ScheduleResult;
  readonly failed: boolean;
  readonly checkError: unknown;
  readonly unprovoked: Array<{ actor: string; error: unknown }>;
  readonly writers: KeyWriterRegistry;
  readonly token: string;
  /** The final state, when asked for (reduction: 'verify'). */
  readonly state?: string;
}

/** Timers of at least this delay started inside actors are timeouts (docs/race.md#time). */
export const DEFAULT_TIMEOUT_FROM_MS = 5000;

/** Everything one everyInterleaving/replay call holds for its whole run. */
export class RaceSession {
  readonly links: ActorLink[];
  readonly names: string[];
  readonly tracker = new ResourceTracker();
  readonly faults: FaultRule[];
  readonly redactor: StepRedactor;
  #restoreTimers: (() => void) | undefined;
  #guards: RaceGuards | undefined;
  #current: ScheduleRun | undefined;
  #redisStart!: RedisStart;
  #resetDb: () => Promise<void> = async () => {};
  #writers: KeyWriterRegistry | undefined;
  /** Every schedule's clock starts here: the same `Date.now()` on every run of the same order. */
  readonly #clockStart: number;

  private constructor(
    readonly scenario: Scenario<object, unknown>,
    readonly redis: object,
    readonly db: unknown,
  ) {
    this.names = Object.keys(scenario.actors);
    this.redactor = raceRedactor(scenario.redact);
    this.links = this.names.map((name, i) => new ActorLink(name, i));
    const start = scenario.virtualTime?.start;
    this.#clockStart = start === undefined ? Date.now() : typeof start === 'number' ? start : start.getTime();
    this.faults = (scenario.faults ?? []).map((f) => ({ actor: f.actor, at: patternFromArgs([f.at]), nth: f.nth ?? 1, when: f.when ?? 'before', error: f.error }));
  }

  static async open(scenario: Scenario<object, unknown>): Promise<RaceSession> {
    const { redis, db, presetReset } = resolveRaceClients(scenario);
    const session = new RaceSession(scenario, redis, db);
    const adapter = toRedisAdapter(redis)!;
    await adapter.ready();
    await checkOwned(adapter, redis, scenario.allowFlush);
    // The keyspace is read while the actors' connections open (a round trip saved per call); those open only once
    // the database's reset is known to be possible.
    const capturing = RedisStart.capture(adapter, redisScope());
    capturing.catch(() => {}); // awaited below, unless the database's reset throws first
    session.#resetDb = await databaseReset(db, scenario.resetDb, presetReset);
    const capacity = poolCapacity(db);
    if (capacity !== undefined && capacity < session.links.length + 1) {
      throw new InvalidRaceScenarioError(
        'db',
        `the pool opens at most ${capacity} connection${capacity === 1 ? '' : 's'}: each of the ${session.links.length} actors takes one for the whole race, ` +
          `and the reset, setup and check need one more, so they would wait for ever. Give it at least ${session.links.length + 1} (node-postgres: max; mysql2: connectionLimit)`,
      );
    }
    const [captured, opened] = await Promise.allSettled([
      capturing,
      Promise.all(session.links.flatMap((link) => [actorRedis(link, redis).ready(), ...(db !== undefined ? [actorDb(link, db as object).ready()] : [])])),
    ]);
    if (captured.status === 'rejected' || opened.status === 'rejected') {
      await session.close();
      throw captured.status === 'rejected' ? captured.reason : (opened as PromiseRejectedResult).reason;
    }
    session.#redisStart = captured.value;
    try {
      session.tracker.watch(session.links);
      // Observed only while a schedule's actors run (run() resumes it).
      session.tracker.pause();
      session.#restoreTimers = installVirtualTimers(globalThis, { onRealTimerCleared: (id) => session.tracker.forgetId(id) });
      session.#guards = new RaceGuards(db);
    } catch (e) {
      await session.close();
      throw e;
    }
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
    this.#guards?.followEmbedded();
    const clockStart = this.#clockStart;
    await onScheduleClock(
      () => clockStart,
      () => this.scenario.setup?.({ redis: this.redis, db: this.db }),
    );
    // Checked here too: a matcher the setup left running would otherwise often finish before the check.
    await assertMatchersAwaitedSince(matchersBefore, "the scenario's setup");
    this.tracker.clear();
    this.tracker.resume();
    const schedule = new ScheduleRun(this.links, {
      tracker: this.tracker,
      faults: this.faults,
      stallTimeoutMs: this.scenario.stallTimeoutMs ?? 2000,
      redactor: this.redactor,
      clockStart: this.#clockStart,
      timeoutFromMs: this.scenario.virtualTime?.timeoutFromMs ?? DEFAULT_TIMEOUT_FROM_MS,
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
      this.tracker.pause();
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
    this.tracker.pause();
    await Promise.all(this.links.map((link) => tidyConnections(link)));
    const state = fingerprint ? await this.#finalState(result) : undefined;
    const writers = new KeyWriterRegistry(result.records, this.redactor.redaction.rules);
    this.#writers?.deactivate();
    this.#writers = writers;
    writers.activate();
    let checkError: unknown;
    const names = this.names;
    try {
      // On real time: a check may wait for something with a deadline of its own.
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
      // Read for a report or a reduction check only.
      get token() {
        return encodeToken(result.choices);
      },
      ...(state !== undefined ? { state } : {}),
    };
  }

  /** The state a schedule ends in, as text: equal exactly when two schedules end in the same state. */
  async #finalState(result: ScheduleResult): Promise<string> {
    const keyspace = printKeyspace(await captureKeyspace(this.redis), { min: true });
    let tables = '';
    if (this.db !== undefined && dbHandleKind(this.db) === 'testDb') {
      const mem = (this.db as TestDb).mem;
      const sortedRows = (table: string) =>
        mem.public
          .many(`SELECT * FROM "${table.replace(/"/g, '""')}"`)
          .map((row) => JSON.stringify(Object.entries(row).sort(([a], [b]) => (a < b ? -1 : 1))))
          .sort();
      tables = [...mem.public.listTables()]
        .map((t) => `${t.name}: ${sortedRows(t.name).join(', ')}`)
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
    this.#guards?.close();
    this.#guards = undefined;
    this.#restoreTimers?.();
    this.#restoreTimers = undefined;
    this.tracker.stop();
    this.#writers?.deactivate();
    await Promise.allSettled(this.links.map((l) => closeConnections(l)));
  }
}
