/**
 * Race helpers: instrumented actors, manual gates, the interleaving explorer, faults and time.
 *
 * The layout follows loom's split of facades, runtime and exploration path:
 * - race.ts, explore.ts, advanceTtl.ts: the API (race(), everyInterleaving()/replay(), advanceTtl());
 *   step.ts: what a step is, shared by all below.
 * - instrument/: the facades actors see: their own Redis and database connections, every call made a step
 *   (redisSteps.ts, dbSteps.ts, connections.ts, actorLink.ts), virtual timers, and the guards against I/O the
 *   race cannot see (resourceTracker.ts, guardUninstrumented).
 * - schedule/: the runtime: one schedule run (run.ts), the one step runner (runStep.ts), faults as data
 *   (faults.ts), step patterns, the strategies (strategies/, one file each and one table), replay tokens,
 *   shrinking.
 * - session/: what one call holds for its whole run: clients (resolve.ts), the starting state and its reset
 *   (reset.ts), ownership of the Redis it empties (ownership.ts), open races and explorations (openRaces.ts).
 * - report/: the timeline and failure report, last writers, redaction of step labels, stack trimming.
 */
export { everyInterleaving, replay, type Scenario, type ActorArgs, type SetupArgs, type CheckArgs, type FaultSpec, type RaceSummary, type VirtualTimeOptions } from './explore';
export { race, closeOpenRaces, type Race, type RaceActor, type RaceOptions, type Gate, type Fault, type FailAtOptions } from './race';
export { bindToActors } from './instrument/connections';
export { activeKeyWriters, type KeyWriter, type KeyWriterLookup } from './report/keyWriters';
export type { ActorOutcome } from './schedule/run';
export type { Strategy } from './schedule/strategies';
export type { StepInfo, StepRecord, StepKind, StepOutcome } from './step';
export type { StepPattern } from './schedule/stepPattern';
export { advanceTtl, type AdvanceTtlResult } from './advanceTtl';
