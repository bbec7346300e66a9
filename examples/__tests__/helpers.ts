import { RaceFailureError } from '../../src';

/** The RaceFailureError everyInterleaving rejected with (fails the test if it resolved). */
export async function caught(run: Promise<unknown>): Promise<RaceFailureError> {
  const outcome = await run.then(
    (summary) => ({ summary }),
    (error: unknown) => ({ error }),
  );
  if (!('error' in outcome)) throw new Error(`expected the race to be caught, but every schedule passed: ${JSON.stringify(outcome.summary)}`);
  if (!(outcome.error instanceof RaceFailureError)) throw outcome.error;
  return outcome.error;
}

/** The failing schedule as `actor:COMMAND` steps: `reader:GET`, `writer:UPDATE`, ... */
export function order(error: RaceFailureError): string[] {
  return error.steps.map((line) => {
    const [actor, rest] = line.split(/ {2}/);
    const m = /^(?:! )?(?:redis|db|timer) (\S+)/.exec(rest ?? '');
    return `${actor}:${m?.[1] ?? '?'}`;
  });
}
