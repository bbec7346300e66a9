/**
 * "Who wrote this key" answers without side effects: asking lastWriter() about a key does not make the race
 * report list it as inconsistent; only reportInconsistent() (which the consistency matcher calls for each
 * key it reports) does.
 */
import { activeKeyWriters, everyInterleaving, RaceFailureError } from '../../src';

async function failingReport(check: () => void): Promise<string> {
  const error = await everyInterleaving({
    strategy: { kind: 'exhaustive', maxSchedules: 1 },
    shrinkBudget: 0,
    actors: { writer: ({ redis }) => redis.set('k', 'v') },
    check,
  }).catch((e: unknown) => e);
  expect(error).toBeInstanceOf(RaceFailureError);
  return (error as Error).message;
}

test('a check that only asks lastWriter() leaves the key out of the inconsistent keys', async () => {
  const message = await failingReport(() => {
    expect(activeKeyWriters()!.lastWriter('k')).toMatchObject({ actor: 'writer', command: 'SET', step: 1 });
    throw new Error('boom');
  });
  expect(message).not.toContain('Inconsistent keys');
  expect(message).toContain('Keys written by the actors, and the step that last wrote each:\n  k  step 1: writer  redis SET k v -> OK');
});

test('reportInconsistent() lists the key, with its last writer', async () => {
  const message = await failingReport(() => {
    activeKeyWriters()!.reportInconsistent('k');
    throw new Error('boom');
  });
  expect(message).toContain('Inconsistent keys and the step that last wrote each:\n  k  step 1: writer  redis SET k v -> OK');
});
