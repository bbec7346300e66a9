/**
 * testEnvironmentOptions.cacheConsistency.redact in a real Jest run: the rules (a RegExp among them) travel from
 * jest.config.js through globalSetup to the workers, and the keyspace capture, the consistency matcher and the
 * race report honour them. The fixture's tests fail on purpose; their failure messages must not hold a secret.
 */
import { join } from 'node:path';
import { REPO, spawnJest } from '../helpers/processes';

jest.setTimeout(120_000);

it('the preset redact rules apply in every place a test prints a value', async () => {
  const fixture = join(REPO, '__tests__', 'fixtures', 'redact');
  const { stdout } = await spawnJest(fixture, ['--json', '--ci', '-c', join(fixture, 'jest.config.js')]).done;
  const results = JSON.parse(stdout) as {
    testResults: Array<{ message: string; assertionResults: Array<{ title: string; status: string; failureMessages: string[] }> }>;
  };
  const tests = Object.fromEntries(results.testResults.flatMap((f) => f.assertionResults.map((t) => [t.title, t])));
  expect(Object.keys(tests).sort()).toEqual(['matcher', 'race', 'snapshot']);
  for (const title of ['snapshot', 'matcher', 'race']) {
    const message = tests[title]!.failureMessages.join('\n');
    expect({ title, status: tests[title]!.status }).toEqual({ title, status: 'failed' });
    expect(message).toContain('[REDACTED]');
    expect(message).not.toContain('hunter2');
  }
  // (toBeNull prints the capture as data: the captured value itself holds the marker.)
  expect(tests.snapshot!.failureMessages.join('\n')).toMatch(/"key": "session:xyz", "redacted": true/);
  expect(tests.snapshot!.failureMessages.join('\n')).toMatch(/Email\W+\[REDACTED\]/); // the RegExp rule /^E/
  expect(tests.race!.failureMessages.join('\n')).toContain('redis SET session:xyz [REDACTED] EX 60 -> OK');
});
