/**
 * Redis is emptied only where it can matter: before every test of a file that asked for the server, when such
 * a file ends, and once in the first file of each process. A child Jest run on a fixture project (one process,
 * files in name order) checks what each file sees and counts the FLUSHALLs the server received.
 */
import { join } from 'node:path';
import { REPO, spawnJest } from '../helpers/processes';

jest.setTimeout(60_000);

it('files that never ask for Redis cost no FLUSHALL per test, and every file that asks finds it empty', async () => {
  const r = await spawnJest(join(REPO, '__tests__', 'fixtures', 'lazy-reset'), ['--no-cache']).done;
  expect(r.stderr).toContain('Tests:       17 passed, 17 total');
  for (const file of ['a-logic', 'b-uses-redis', 'c-logic', 'd-asks-late', 'e-count', 'f-reset-modules', 'g-asks-in-last', 'h-isolated', 'i-last']) expect(r.stderr).toContain(`PASS ./${file}.test.js`);
  expect(r.code).toBe(0);
});
