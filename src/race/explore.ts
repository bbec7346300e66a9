/**
 * `everyInterleaving(scenario)` and `replay(token, scenario)`: run the scenario's actors under the scheduler,
 * once per schedule the strategy picks, from the same starting state every time, and check each outcome.
 */
import type Redis from 'ioredis';
import type { TestDb } from '../db/embedded';
import { callSite } from '../callSite';
import { indent, InvalidRaceScenarioError, RaceFailureError, RaceReductionMismatchError, ScheduleReplayMismatchError } from '../errors';
import type { RedactRule } from '../keyspace/redact';
import { findUnknownKey, optionKeys } from '../optionKeys';
import { raceFailure } from './report/failure';
import { raceRedactor } from './report/redactSteps';
import type { ActorOutcome } from './schedule/run';
import { shrink } from './schedule/shrink';
import { patternFromArgs, type StepPattern } from './schedule/stepPattern';
import { DfsExplorer, explorerFor, reductionOf, ReplayExplorer, validateStrategy, type Explorer, type Strategy } from './schedule/strategies';
import { DporExplorer, ScheduleCut } from './schedule/strategies/dpor';
import { decodeToken, encodeToken } from './schedule/token';
import { stopIfAbandoned, trackExploration, type ExplorationSignal } from './session/openRaces';
import { RaceSession, type Verdict } from './session/session';
import { trimStack } from './report/stack';
import type { StepRecord } from './step';

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
  /** Time inside the actors (docs/race.md#time). */
  readonly virtualTime?: VirtualTimeOptions;
  /** Schedules the shrinking may run to find a failure with fewer context switches. Default 500. */
  readonly shrinkBudget?: number;
  /**
   * Secrets the report never shows (step arguments and replies, last writers, outcomes, the check's failure):
   * the rules of captureKeyspace's `redact`, added to the preset's (docs/configuration.md#redact).
   */
  readonly redact?: RedactRule | readonly RedactRule[];
}

/** Time inside the actors of everyInterleaving and replay (docs/race.md#time). */
export interface VirtualTimeOptions {
  /**
   * Timers a database driver, pool or ORM starts inside an actor with at least this delay (ms) are timeouts (a pool's
   * acquire or idle timeout; docs/race.md#time lists the libraries):
   * they fire only when no other step can run, and become real timers once every actor has finished. Shorter
   * timers are steps in any order against the other actors' steps. Default 5000; `Infinity`: no timer is a timeout.
   */
  readonly timeoutFromMs?: number;
  /** `Date.now()` inside the actors when each schedule starts. Default: the real time when the call started. */
  readonly start?: number | Date;
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
  /**
   * The reduced search only, when it passed: how many orders it held equivalent to ones it ran (one per class, two
   * commuting steps swapped; at most 64) were run after it, to test that the actors share no state it cannot see.
   * Not counted in `schedules`.
   */
  readonly traceChecks?: number;
  /**
   * True when a trace check made the actors take different steps (they share state in the process): the call then
   * searched every order (brute force), and `schedules` counts that search.
   */
  readonly fellBackToBruteForce?: boolean;
  /** reduction: 'verify' only: the brute-force search it was checked against (its schedules, its distinct final states). */
  readonly verified?: { readonly schedules: number; readonly states: number };
}

const hasBound = (s: Strategy | undefined) => typeof s === 'object' && s.kind === 'exhaustive' && s.preemptionBound !== undefined;

function invalid(option: string, problem: string): never {
  throw new InvalidRaceScenarioError(option, problem);
}

/** The known keys of a scenario, and of its nested options (the types keep them complete). */
const SCENARIO_KEYS = optionKeys<Scenario>({
  actors: true, setup: true, check: true, strategy: true, redis: true, db: true, faults: true, resetDb: true, allowFlush: true,
  stallTimeoutMs: true, shrinkBudget: true, redact: true, virtualTime: true,
});
const VIRTUAL_TIME_KEYS = optionKeys<VirtualTimeOptions>({ timeoutFromMs: true, start: true });
const FAULT_KEYS = optionKeys<FaultSpec>({ actor: true, at: true, nth: true, when: true, error: true });
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
  if (s.virtualTime !== undefined) {
    const v = s.virtualTime as Record<string, unknown>;
    if (v === null || typeof v !== 'object') invalid('virtualTime', 'an object { timeoutFromMs?, start? }');
    refuseUnknownKeys(v, VIRTUAL_TIME_KEYS, 'virtualTime');
    if (v.timeoutFromMs !== undefined && !(typeof v.timeoutFromMs === 'number' && v.timeoutFromMs > 0)) invalid('virtualTime.timeoutFromMs', 'a positive number of ms (Infinity: no timer is a timeout)');
    const start = v.start;
    if (start !== undefined && !((typeof start === 'number' && Number.isFinite(start)) || (start instanceof Date && !Number.isNaN(start.getTime())))) invalid('virtualTime.start', 'a time in ms since the epoch, or a valid Date');
  }
  if (s.redact !== undefined) raceRedactor(s.redact as RedactRule[]); // a bad rule: INVALID_RACE_SCENARIO naming it
  if (s.shrinkBudget !== undefined && !(Number.isInteger(s.shrinkBudget) && (s.shrinkBudget as number) >= 0)) invalid('shrinkBudget', 'a non-negative integer');
  validateStrategy(s.strategy, invalid);
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

/** The test running now (Jest's expect state), to tell concurrent tests' calls apart. */
function currentTest(): object | undefined {
  const state = (globalThis as { expect?: { getState?: () => { currentTestIdentity?: () => object } } }).expect?.getState?.();
  return state?.currentTestIdentity?.();
}

async function explore(scenario: Scenario<object, unknown>, explorer: Explorer, kind: 'everyInterleaving' | 'replay', signal: ExplorationSignal, verify = false): Promise<RaceSummary> {
  const session = await RaceSession.open(scenario);
  try {
    return verify ? await verifyReduction(session, scenario, signal) : await search(session, scenario, explorer, kind, signal);
  } finally {
    try {
      // A schedule abandoned by an error may have left a transaction open (its locks would block the reset).
      await session.tidyAll();
    } finally {
      // The starting state put back and the actors' connections closed, together (neither waits for the other).
      // As when closing came after: closing's error, else the reset's, is the one thrown.
      const [restored, closed] = await Promise.allSettled([session.restoreStart(), session.close()]);
      if (closed.status === 'rejected') throw closed.reason;
      if (restored.status === 'rejected') throw restored.reason;
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
      throw raceFailure(session, verdict, `replay: the schedule ${verdict.token} fails.`, 1);
    }
    throw await failureOf(session, scenario, verdict, count, kind, signal, `schedule ${count} of the ${explorer.name} search failed.`);
  }
  let traceChecks: number | undefined;
  // The reduced search passed: run the orders it held equivalent to those it ran (unless `verify` compares them all).
  if (explorer instanceof DporExplorer && explorer.complete && onState === undefined) {
    const siblings = explorer.siblings;
    for (const [n, choices] of siblings.entries()) {
      stopIfAbandoned(signal, kind);
      const token = encodeToken(choices);
      const replayer = new ReplayExplorer(token, choices);
      let verdict: Verdict;
      try {
        verdict = await session.run(replayer.next()!);
        replayer.done(verdict.result);
      } catch (error) {
        if (!(error instanceof ScheduleReplayMismatchError)) throw error;
        // The actors took different steps in an order the reduction holds equivalent: they share state in the
        // process (request coalescing, a memo, an in-memory cache layer), so the reduced search proves nothing.
        // Search every order instead.
        await session.tidyAll();
        const full = await search(session, scenario, explorerFor(scenario.strategy, 'none'), kind, signal);
        return { ...full, traceChecks: n + 1, fellBackToBruteForce: true };
      }
      if (verdict.failed) {
        throw await failureOf(
          session,
          scenario,
          verdict,
          count + n + 1,
          kind,
          signal,
          `the reduced search passed, but schedule ${verdict.token}, an order it held equivalent to one it ran (two steps that commute by their footprints, swapped), fails: the actors share state the reduction cannot see (in the process: an in-memory cache layer, a module-level variable). Search this scenario with strategy: { kind: 'exhaustive', reduction: 'none' } (docs/race.md#reduction).`,
        );
      }
    }
    traceChecks = siblings.length;
  }
  return {
    schedules: count,
    complete: explorer.complete,
    strategy: explorer.name,
    ...(explorer instanceof DporExplorer ? { classes: explorer.classes } : {}),
    ...(traceChecks !== undefined ? { traceChecks } : {}),
  };
}

/** The RACE_FAILED error for a failing schedule: shrunk to the fewest context switches, then reported. */
async function failureOf(
  session: RaceSession,
  scenario: Scenario<object, unknown>,
  verdict: Verdict,
  count: number,
  kind: 'everyInterleaving' | 'replay',
  signal: ExplorationSignal,
  what: string,
): Promise<RaceFailureError> {
  const budget = scenario.shrinkBudget ?? 500;
  const { verdict: best, runs } = await shrink((chooser) => session.run(chooser), verdict, budget, () => stopIfAbandoned(signal, kind));
  const shrunk =
    best === verdict
      ? `It has ${best.result.switches} context switch${best.result.switches === 1 ? '' : 'es'}; no failing schedule with fewer preemptions was found${runs ? ` (${runs} more schedule${runs === 1 ? '' : 's'} tried)` : ''}.`
      : `Shrunk from ${verdict.result.switches} to ${best.result.switches} context switch${best.result.switches === 1 ? '' : 'es'} (${runs} more schedule${runs === 1 ? '' : 's'} tried).`;
  return raceFailure(session, best, `everyInterleaving found a failing schedule: ${what} ${shrunk}`, count);
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
          `(schedule ${token}; ${brute.states.size} distinct final states by brute force, ${reduced.states.size} reduced):\n${indent(state, '  ')}`,
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
