/** The RaceFailureError of a failing schedule: its report, its token, its steps, the check's own error. */
import { RaceFailureError } from '../../errors';
import type { Verdict } from '../session/session';
import type { StepRedactor } from './redactSteps';
import { formatReport } from './report';
import { trimStack } from './stack';

/** What the report needs of the session: the actors' names and the redact rules. */
interface SessionView {
  readonly names: readonly string[];
  readonly redactor: StepRedactor;
}

/** The error for the failing schedule `v`, the `schedule`th run; `headline` opens its report. */
export function raceFailure(session: SessionView, v: Verdict, headline: string, schedule: number): RaceFailureError {
  return trimStack(new RaceFailureError(report(session, v, headline), v.token, schedule, stepLines(session, v), scrubCheckError(session, v.checkError)));
}

function stepLines(session: SessionView, v: Verdict): string[] {
  return v.result.records.map((r) => session.redactor.scrub(`${r.actor}  ${r.fault ? '! ' : ''}${r.label}`));
}

/**
 * The check's own error, scrubbed of every value the `redact` rules replaced (its message is part of the
 * report; the error itself travels on as RaceFailureError.checkError). A plain `expect` in the check quotes
 * what it received: that value is scrubbed here, in place.
 */
function scrubCheckError(session: SessionView, error: unknown): unknown {
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

function report(session: SessionView, v: Verdict, headline: string): string {
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
