/**
 * `race()`: manual gates. Actors run freely (their steps go straight to Redis and the database) until one
 * reaches a gate; there it parks until the test releases it. This is the by-hand way to reproduce one
 * interleaving: pause the writer between its database write and its cache delete, run the reader, release.
 */
import { setImmediate as realSetImmediate } from 'node:timers';
import type Redis from 'ioredis';
import type { TestDb } from '../db/embedded';
import { GateNeverReachedError, GateNotReleasedError, InvalidRaceScenarioError } from '../errors';
import { findUnknownKey, optionKeys } from '../optionKeys';
import { ActorLink, runActor, type StepController } from './instrument/actorLink';
import { actorDb, actorRedis, closeConnections } from './instrument/connections';
import { KeyWriterRegistry } from './report/keyWriters';
import { raceRedactor, type StepRedactor } from './report/redactSteps';
import type { RedactRule } from '../keyspace/redact';
import { closeOpenRacesIfAny, forgetOpenRace, registerOpenRace } from './session/openRaces';
import { resolveRaceClients } from './session/resolve';
import { FaultPlan, type FaultRule } from './schedule/faults';
import { deliverStep, runStep } from './schedule/runStep';
import { formatTimeline } from './report/report';
import { ResourceTracker } from './instrument/resourceTracker';
import { RaceGuards } from './instrument/guards';
import type { StepInfo, StepRecord, StepRequest } from './step';
import { describePattern, patternFromArgs, stepMatches, type StepPattern, type StepPatternArgs } from './schedule/stepPattern';

const turn = () => new Promise<void>((resolve) => realSetImmediate(resolve));

export interface RaceOptions<R, D> {
  /** The Redis client whose server the actors connect to. Default testRedis(). */
  readonly redis?: R;
  /** The database handle. Default testDb(). */
  readonly db?: D;
  /**
   * Secrets the step labels, gate and fault messages and the consistency matcher's failures never show: the
   * rules of captureKeyspace's `redact`, added to the preset's (docs/configuration.md#redact).
   */
  readonly redact?: RedactRule | readonly RedactRule[];
}

/** A point in an actor's steps where it parks until released. */
export interface Gate {
  /**
   * Resolves with the step once the actor is parked at the gate. Rejects with GATE_NEVER_REACHED when the
   * actor finishes, or goes idle (no step in flight, none issued, no work of its own pending), without
   * reaching it.
   */
  readonly reached: Promise<StepInfo>;
  /** Lets the parked actor go on (before it arrives: it will pass without stopping). */
  release(): void;
  /** True once the actor has parked here. */
  readonly isReached: boolean;
  /** `before redis DEL`, for messages. */
  readonly description: string;
}

/** A fault armed with `actor.failAt(...)`. */
export interface Fault {
  /** True once the fault was injected into a step. */
  readonly injected: boolean;
  /** The step it was injected into. */
  readonly step: StepInfo | undefined;
}

export interface FailAtOptions {
  /** The error the call rejects with. Default: an InjectedFaultError. */
  readonly error?: unknown;
  /** 'before' (default): never sent. 'after': runs, then the reply is lost. */
  readonly when?: 'before' | 'after';
  /** The nth matching step (1-based). Default 1. */
  readonly nth?: number;
}

/** The known keys of race()'s options and of failAt's (the types keep them complete). */
const RACE_OPTION_KEYS = optionKeys<RaceOptions<unknown, unknown>>({ redis: true, db: true, redact: true });
const FAIL_AT_KEYS = optionKeys<FailAtOptions>({ error: true, when: true, nth: true });

class GateImpl implements Gate {
  readonly description: string;
  #reached = false;
  #released = false;
  #settled = false;
  #resolve!: (step: StepInfo) => void;
  #reject!: (error: unknown) => void;
  readonly #promise: Promise<StepInfo>;
  #continue: (() => void) | undefined;
  #watching = false;

  constructor(
    readonly actor: ActorState,
    readonly when: 'before' | 'after',
    readonly pattern: StepPattern,
  ) {
    this.description = `${when} ${describePattern(pattern)}`;
    this.#promise = new Promise<StepInfo>((resolve, reject) => {
      this.#resolve = resolve;
      this.#reject = reject;
    });
    // A gate nobody awaits must not raise an unhandled rejection: close() reports it instead.
    this.#promise.catch(() => {});
  }

  /** True once someone read `reached` (a rejection of it was then seen by the test). */
  observed = false;

  get reached(): Promise<StepInfo> {
    this.observed = true;
    this.#watch();
    return this.#promise;
  }
  get isReached(): boolean {
    return this.#reached;
  }
  get isReleased(): boolean {
    return this.#released;
  }
  get isParked(): boolean {
    return this.#reached && !this.#released;
  }

  release(): void {
    this.#released = true;
    const go = this.#continue;
    this.#continue = undefined;
    go?.();
  }

  /** The actor arrived: park until released. */
  park(step: StepInfo): Promise<void> {
    this.#reached = true;
    this.#settled = true;
    this.#resolve(step);
    if (this.#released) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.#continue = resolve;
    });
  }

  /** True once `reached` was rejected: the gate is disarmed and lets the actor through. */
  failed = false;

  fail(why: string | Error): void {
    if (this.#settled) return;
    this.#settled = true;
    this.failed = true;
    this.#reject(typeof why === 'string' ? new GateNeverReachedError(this.actor.link.name, this.description, why, this.actor.labels()) : why);
  }

  get settled(): boolean {
    return this.#settled;
  }

  /** Started when someone awaits `reached`: rejects it once the actor can no longer reach the gate. */
  #watch(): void {
    if (this.#watching) return;
    this.#watching = true;
    void (async () => {
      const a = this.actor;
      for (;;) {
        await turn();
        if (this.#settled) return;
        if (a.finished) return this.fail('the actor finished');
        const parkedAt = a.parkedGate();
        if (parkedAt && parkedAt !== this) return this.fail(`the actor is parked at the gate ${parkedAt.description}, which was not released`);
        if (a.inFlight > 0 || a.race.tracker.live().some((r) => r.actor === a.link)) {
          await a.activity();
          continue;
        }
        const seen = a.activityCount;
        await turn();
        if (this.#settled) return;
        if (a.activityCount === seen && a.inFlight === 0 && !a.race.tracker.live().some((r) => r.actor === a.link)) {
          return this.fail(
            a.running
              ? 'the actor went idle: no step in flight, none issued, and no work of its own pending'
              : 'the actor went idle: its last step completed and it issued no further step (if it awaits something the race cannot see before the gate, start it with actor.run(fn))',
          );
        }
      }
    })();
  }
}

/** A fault armed with failAt: its rule (data, in the race's FaultPlan) and the handle the test reads. */
class FaultHandle implements Fault {
  constructor(
    readonly rule: FaultRule,
    readonly plan: FaultPlan,
  ) {}
  get step(): StepInfo | undefined {
    return this.plan.injectedInto(this.rule);
  }
  get injected(): boolean {
    return this.step !== undefined;
  }
}

class ActorState {
  readonly gates: GateImpl[] = [];
  inFlight = 0;
  activityCount = 0;
  running = false;
  finished = false;
  #waiters: Array<() => void> = [];

  constructor(
    readonly race: RaceImpl<object, unknown>,
    readonly link: ActorLink,
  ) {}

  touch(): void {
    this.activityCount++;
    const w = this.#waiters;
    this.#waiters = [];
    for (const fn of w) fn();
  }

  activity(): Promise<void> {
    return new Promise<void>((resolve) => this.#waiters.push(resolve));
  }

  parkedGate(): GateImpl | undefined {
    return this.gates.find((g) => g.isParked);
  }

  labels(): string[] {
    return this.race.records.filter((r) => r.actor === this.link.name).map((r) => `${r.index}  ${r.label}`);
  }

  gateFor(when: 'before' | 'after', info: StepInfo): GateImpl | undefined {
    return this.gates.find((g) => g.when === when && !g.isReached && !g.failed && stepMatches(g.pattern, info));
  }
}

export interface RaceActor<R, D> {
  readonly name: string;
  /** This actor's own Redis client (same library and options as the race's, its own connection). */
  readonly redis: R;
  /** This actor's own database handle, shaped like the race's. */
  readonly db: D;
  /**
   * Parks the actor before the first step matching the pattern runs: `pauseBefore('redis', 'DEL')`,
   * `pauseBefore('redis', 'SET', 'user:*')`, `pauseBefore('db', /UPDATE users/)`, `pauseBefore({ redis: 'GET' })`.
   */
  pauseBefore(...pattern: StepPatternArgs): Gate;
  /** Parks the actor after the matching step ran, before its caller sees the reply. */
  pauseAfter(...pattern: StepPatternArgs): Gate;
  /** Makes the matching step fail (see FailAtOptions). */
  failAt(pattern: StepPattern, options?: FailAtOptions): Fault;
  /**
   * Runs `fn` as this actor: module-level clients bound with bindToActors use this actor's connections, and
   * the race knows exactly when the actor finishes (so a gate it never reaches fails at once).
   */
  run<T>(fn: () => T | Promise<T>): Promise<T>;
}

export interface Race<R, D> {
  /** The actor named `name` (created on first use; the same object after). */
  actor(name: string): RaceActor<R, D>;
  /** Every step so far, in completion order. */
  readonly steps: readonly StepRecord[];
  /** The steps so far as an ASCII swimlane timeline. */
  timeline(): string;
  /**
   * Ends the race: closes the actors' connections, and throws GATE_NEVER_REACHED / GATE_NOT_RELEASED for a
   * gate that was never reached or never released. The preset calls it after each test.
   */
  close(): Promise<void>;
}

class RaceImpl<R extends object, D> implements Race<R, D>, StepController {
  readonly records: StepRecord[] = [];
  readonly tracker = new ResourceTracker();
  readonly #actors = new Map<string, { state: ActorState; api: RaceActor<R, D> }>();
  readonly #byLink = new Map<ActorLink, ActorState>();
  #closed = false;
  /** The first channel an actor used that the race cannot see: the race fails with it (run(), gates, close()). */
  #violation: Error | undefined;
  readonly #guards: RaceGuards;

  readonly redactor: StepRedactor;
  readonly writers: KeyWriterRegistry;
  /** Every actor's failAt rules. */
  readonly faults = new FaultPlan();

  constructor(
    readonly redis: R,
    readonly db: D,
    redactor: StepRedactor,
  ) {
    this.#guards = new RaceGuards(db);
    this.redactor = redactor;
    this.writers = new KeyWriterRegistry([], redactor.redaction.rules);
    this.writers.activate();
  }

  get steps(): readonly StepRecord[] {
    return this.records;
  }

  timeline(): string {
    return formatTimeline([...this.#actors.keys()], this.records);
  }

  actor(name: string): RaceActor<R, D> {
    if (typeof name !== 'string' || name === '') throw new InvalidRaceScenarioError('actor(name)', 'a non-empty string');
    if (this.#closed) throw new InvalidRaceScenarioError('actor(name)', 'the race is closed');
    const existing = this.#actors.get(name);
    if (existing) return existing.api;
    const link = new ActorLink(name, this.#actors.size);
    link.controller = this;
    const state = new ActorState(this as unknown as RaceImpl<object, unknown>, link);
    this.#byLink.set(link, state);
    this.tracker.watch([link]);
    const redisConn = actorRedis(link, this.redis);
    const dbConn = this.db !== undefined ? actorDb(link, this.db as unknown as object) : undefined;
    const gate = (when: 'before' | 'after', args: unknown[]) => {
      const g = new GateImpl(state, when, patternFromArgs(args, when === 'before' ? 'pauseBefore' : 'pauseAfter'));
      state.gates.push(g);
      return g;
    };
    const api: RaceActor<R, D> = {
      name,
      redis: redisConn.client as R,
      db: dbConn?.handle as D,
      pauseBefore: (...args: StepPatternArgs) => gate('before', args),
      pauseAfter: (...args: StepPatternArgs) => gate('after', args),
      failAt: (pattern, options = {}) => {
        if (typeof options !== 'object' || options === null) throw new InvalidRaceScenarioError('failAt options', 'an object { error?, when?, nth? }');
        const unknown = findUnknownKey(options, FAIL_AT_KEYS);
        if (unknown) throw new InvalidRaceScenarioError(`failAt options.${unknown.key}`, unknown.problem);
        if (options.when !== undefined && options.when !== 'before' && options.when !== 'after') throw new InvalidRaceScenarioError('failAt options.when', "'before' or 'after'");
        if (options.nth !== undefined && !(Number.isInteger(options.nth) && options.nth > 0)) throw new InvalidRaceScenarioError('failAt options.nth', 'a positive integer');
        const rule: FaultRule = { actor: name, at: patternFromArgs([pattern], 'failAt'), nth: options.nth ?? 1, when: options.when ?? 'before', error: options.error };
        this.faults.add(rule);
        return new FaultHandle(rule, this.faults);
      },
      run: async <T>(fn: () => T | Promise<T>): Promise<T> => {
        state.running = true;
        try {
          const value = await runActor(this, link, fn);
          // The actor's code may have swallowed the error of its uninstrumented I/O (cache-manager does): the
          // race fails anyway.
          if (this.#violation) throw this.#violation;
          return value;
        } finally {
          state.running = false;
          state.finished = true;
          state.touch();
          for (const g of state.gates) if (!g.isReached) g.fail('the actor finished');
        }
      },
    };
    this.#actors.set(name, { state, api });
    return api;
  }

  /** An actor used a channel the race cannot see: every gate not yet settled rejects with it, and so does close(). */
  fail(error: unknown): void {
    if (this.#violation) return;
    this.#violation = error instanceof Error ? error : new Error(String(error));
    for (const { state } of this.#actors.values()) for (const g of state.gates) g.fail(this.#violation);
  }

  issue(link: ActorLink, request: StepRequest): Promise<unknown> {
    const state = this.#byLink.get(link)!;
    state.inFlight++;
    state.touch();
    return this.#step(state, request).finally(() => {
      state.inFlight--;
      state.touch();
    });
  }

  async #step(state: ActorState, request: StepRequest): Promise<unknown> {
    const info = request.info;
    const before = state.gateFor('before', info);
    if (before) await before.park(info);
    const record = await runStep(request, {
      index: this.records.length + 1,
      actorStep: this.records.filter((r) => r.actor === info.actor).length + 1,
      fault: this.faults.take(info),
      redactor: this.redactor,
    });
    this.records.push(record);
    this.writers.note(record);
    const after = state.gateFor('after', info);
    if (after) await after.park(info);
    return deliverStep(request, record);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    forgetOpenRace(this);
    const problems: Error[] = [];
    for (const { state } of this.#actors.values()) {
      for (const g of state.gates) {
        if (g.failed && g.observed) continue;
        if (g.failed) {
          problems.push(new GateNeverReachedError(state.link.name, g.description, 'the actor finished', state.labels()));
        } else if (!g.isReached) {
          g.fail('the test ended first');
          problems.push(new GateNeverReachedError(state.link.name, g.description, 'the test ended first', state.labels()));
        } else if (!g.isReleased) {
          // The actor stays parked (abandoned): releasing it now would send its step over a closing connection.
          problems.push(new GateNotReleasedError(state.link.name, g.description));
        }
      }
    }
    this.tracker.stop();
    this.#guards.close();
    this.writers.deactivate();
    await Promise.allSettled([...this.#actors.values()].map(({ state }) => {
      state.link.controller = undefined;
      return closeConnections(state.link);
    }));
    if (this.#violation) throw this.#violation;
    if (problems.length > 0) throw problems[0];
  }
}

/**
 * Starts a race: name actors with `r.actor(name)`, hand their clients to the service, and pause them at
 * chosen steps with gates.
 *
 * @example
 * const r = race();
 * const writer = r.actor('writer'), reader = r.actor('reader');
 * const gate = writer.pauseBefore('redis', 'DEL');
 * const w = new UserCache(writer.db, writer.redis).updateUser(1, 'Jerry');
 * await gate.reached;                      // the database is written, the delete not yet sent
 * await new UserCache(reader.db, reader.redis).getUser(1);
 * gate.release(); await w;
 */
export function race<R extends object = Redis, D = TestDb>(options: RaceOptions<R, D> = {}): Race<R, D> {
  if (typeof options !== 'object' || options === null) throw new InvalidRaceScenarioError('options', 'an object { redis?, db? }');
  const unknown = findUnknownKey(options, RACE_OPTION_KEYS);
  if (unknown) throw new InvalidRaceScenarioError(unknown.key, unknown.problem);
  const { redis, db } = resolveRaceClients(options);
  const r = new RaceImpl<R, D>(redis as R, db as D, raceRedactor(options.redact));
  registerOpenRace(r);
  return r;
}

/** Closes every race still open (the preset runs this after each test); throws the first gate problem. */
export const closeOpenRaces = closeOpenRacesIfAny;
