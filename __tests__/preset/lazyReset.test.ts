/**
 * Redis is emptied only where it can matter: before every test of a file that asked for the server, when such
 * a file ends, and at the first test of a worker process that is not the first on its server. Child Jest runs
 * on fixture projects (one process, files in name order) check what each file sees and count the FLUSHALLs
 * the server received.
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

it("a worker process that is not the first on its server empties it at its first test (a crashed predecessor's keys)", async () => {
  const dir = join(REPO, '__tests__', 'fixtures', 'lazy-reset-replaced');
  const replaced = await spawnJest(dir, ['--no-cache']).done;
  expect(replaced.stderr).toContain('Tests:       2 passed, 2 total');
  expect(replaced.code).toBe(0);
  // The first process on a fresh server sends no FLUSHALL at all: the key globalSetup planted stays visible.
  const first = await spawnJest(dir, ['--no-cache'], { FIRST_PROCESS: '1' }).done;
  expect(first.stderr).toContain('Tests:       2 passed, 2 total');
  expect(first.code).toBe(0);
});

it('a server handed out outside any test file (a globalSetup giving redisUrl() to the app) is emptied before every test', async () => {
  const r = await spawnJest(join(REPO, '__tests__', 'fixtures', 'lazy-reset-eager'), ['--no-cache']).done;
  expect(r.stderr).toContain('Tests:       2 passed, 2 total');
  expect(r.code).toBe(0);
});
