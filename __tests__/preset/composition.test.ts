/** The preset inside real Jest runs: composing with a project's own global hooks, and its errors. */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO, spawnJest } from '../helpers/processes';

jest.setTimeout(60_000);
const fixture = (name: string) => join(REPO, '__tests__', 'fixtures', name);

it('a project with its own globalSetup/globalTeardown can call the library ones from them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'jcc-compose-'));
  try {
    const teardownFile = join(dir, 'teardown.txt');
    const result = await spawnJest(fixture('custom-setup'), [], { TEARDOWN_FILE: teardownFile }).done;
    expect(result.stderr).toContain('1 passed');
    expect(result.code).toBe(0);
    expect(readFileSync(teardownFile, 'utf8')).toMatch(/after the library stopped/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

it('an invalid option stops the run before any test, naming the option and the fix', async () => {
  const result = await spawnJest(fixture('lifecycle'), [
    '--testEnvironmentOptions',
    JSON.stringify({ cacheConsistency: { redis: { bianry: '/usr/bin/redis-server' } } }),
  ], { MODE: 'pass', PID_FILE: '/dev/null' }).done;
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain(
    'Invalid option testEnvironmentOptions.cacheConsistency.redis.bianry: unknown option. Did you mean "binary"?',
  );
});

it('a missing redis-server stops the run with install instructions', async () => {
  const result = await spawnJest(fixture('lifecycle'), [], {
    MODE: 'pass',
    PID_FILE: '/dev/null',
    REDIS_SERVER_BINARY: '/nonexistent/redis-server',
  }).done;
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain('No redis-server binary was found');
  expect(result.stderr).toContain('sudo apt-get install redis-server');
  expect(result.stderr).toContain('brew install redis');
});

it('a redis-server that cannot start reports its own output', async () => {
  const result = await spawnJest(fixture('lifecycle'), [
    '--testEnvironmentOptions',
    JSON.stringify({ cacheConsistency: { redis: { args: ['--no-such-directive', 'yes'] } } }),
  ], { MODE: 'pass', PID_FILE: '/dev/null' }).done;
  expect(result.code).not.toBe(0);
  expect(result.stderr).toContain('redis-server failed to start');
  expect(result.stderr).toMatch(/Bad directive or wrong number of arguments/);
});
