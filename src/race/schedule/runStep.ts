/**
 * The step runner: one granted step, run the same way under a schedule (ScheduleRun) and under race()'s
 * gates. It injects the step's fault (before: never sent; after: sent, reply lost), performs the real I/O
 * outside any actor, and records the step with what may be printed of it (the redact rules applied).
 */
import { outsideActors, settle } from '../instrument/actorLink';
import { formatError } from '../instrument/labels';
import type { StepRedactor } from '../report/redactSteps';
import type { StepOutcome, StepRecord, StepRequest } from '../step';
import { faultError, type FaultRule } from './faults';

export interface RunStepOptions {
  /** 1-based position in the schedule. */
  readonly index: number;
  /** 1-based position among this actor's steps. */
  readonly actorStep: number;
  /** The fault to inject into this step, if any. */
  readonly fault?: FaultRule | undefined;
  readonly redactor?: StepRedactor | undefined;
  /** Wraps the real I/O (the scheduler's stall guard); an error it throws itself is thrown on, not recorded. */
  readonly guard?: <T>(work: Promise<T>, description: string) => Promise<T>;
  /** True for the guard's own errors (thrown on instead of becoming the step's outcome). */
  readonly isGuardError?: (error: unknown) => boolean;
}

export async function runStep(request: StepRequest, options: RunStepOptions): Promise<StepRecord> {
  const { fault, redactor } = options;
  const info = request.info;
  // What may be printed of the step: its arguments with the redact rules applied, known secrets scrubbed.
  const description = redactor ? redactor.scrub(redactor.description(info)) : info.description;
  let outcome: StepOutcome;
  let result: string;
  let faultText: string | undefined;
  if (fault && fault.when === 'before') {
    const error = faultError(fault, description);
    outcome = { ok: false, error };
    faultText = `before: ${formatError(error)}`;
    result = `-> !${formatError(error)} (injected, never sent)`;
  } else {
    let real: StepOutcome;
    try {
      const work = outsideActors(() => request.execute());
      real = { ok: true, value: await (options.guard ? options.guard(work, description) : work) };
    } catch (error) {
      if (options.isGuardError?.(error)) throw error;
      real = { ok: false, error };
    }
    const shown = request.describeResult(redactor ? redactor.outcome(info, real) : real);
    if (fault) {
      const error = faultError(fault, description);
      outcome = { ok: false, error };
      faultText = `after: ${formatError(error)}`;
      result = `${shown}, then !${formatError(error)} (injected: reply lost)`;
    } else {
      outcome = real;
      result = shown;
    }
  }
  if (redactor) result = redactor.scrub(result);
  // The step's info and what it ended with, built property by property: an object spread followed by more
  // properties takes V8's slow path, microseconds per step (measured in bench/race.js (a)).
  const record = Object.assign({}, info) as { -readonly [K in keyof StepRecord]: StepRecord[K] };
  record.description = description;
  record.index = options.index;
  record.actorStep = options.actorStep;
  record.outcome = outcome;
  record.result = result;
  record.label = `${description} ${result}`;
  if (faultText !== undefined) record.fault = faultText;
  return record;
}

/** What the actor's call settles with for a recorded step: a faulted step rejects with its injected error. */
export function deliverStep(request: StepRequest, record: StepRecord): unknown {
  if (record.fault !== undefined) throw (record.outcome as { error: unknown }).error;
  return settle(request, record.outcome);
}
