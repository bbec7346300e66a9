/** Race helpers: instrumented actors, manual gates, the interleaving explorer, faults and time. */
export { everyInterleaving, replay, type Scenario, type ActorArgs, type SetupArgs, type CheckArgs, type FaultSpec, type RaceSummary } from './explore';
export { race, closeOpenRaces, type Race, type RaceActor, type RaceOptions, type Gate, type Fault, type FailAtOptions } from './race';
export { bindToActors } from './instrument/connections';
export { activeKeyWriters, type KeyWriter, type KeyWriterLookup } from './report/keyWriters';
export type { ActorOutcome } from './schedule/run';
export type { Strategy } from './schedule/strategies';
export type { StepInfo, StepRecord, StepKind, StepOutcome } from './step';
export type { StepPattern } from './schedule/stepPattern';
export { advanceTtl, type AdvanceTtlResult } from './advanceTtl';
