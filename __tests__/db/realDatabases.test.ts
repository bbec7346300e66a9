/**
 * The preset on a real database, end to end: Jest runs in a child process on __tests__/fixtures/real-databases
 * (the built preset, `npm run build` first) against this machine's PostgreSQL and MariaDB, with two workers.
 * The fixture's own tests check isolation between the workers, the reset, transactions and docs/races.md #2; this
 * file checks what only the outside can see: which databases exist before, during and after a run.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hostTag, parseDatabaseName } from '../../src/db/provision';
import { isAlive, REPO, spawnJest, waitForExit, waitForFile, type Finished, type Running } from '../helpers/processes';
import { adminFor, type Admin } from './realDatabaseAdmin';

const FIXTURE = join(REPO, '__tests__', 'fixtures', 'real-databases');
const URLS = {
  postgres: 'postgres://postgres@127.0.0.1:5432/test',
  mysql: 'mysql://root@127.0.0.1:3306/test',
} as const;
type Kind = keyof typeof URLS;

jest.setTimeout(180_000);

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'jcc-realdb-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** Jest on the fixture: two workers, a fresh cache folder (no timings: Jest really uses its workers). */
function runFixture(kind: Kind, files: string[], env: Record<string, string> = {}, workers = 2): Running {
  return spawnJest(FIXTURE, [`--maxWorkers=${workers}`, `--cacheDirectory=${join(dir, 'cache')}`, ...files], {
    DB_KIND: kind,
    DB_URL: URLS[kind],
    OUT_DIR: dir,
    ...env,
  });
}

function recorded<T>(name: string): T {
  return JSON.parse(readFileSync(join(dir, `${name}.json`), 'utf8')) as T;
}

function explain(result: Finished): string {
  return `exit ${result.code ?? result.signal}\n--- stdout\n${result.stdout}\n--- stderr\n${result.stderr}`;
}

describe.each(['postgres', 'mysql'] as const)('database.kind %s', (kind) => {
  let admin: Admin;
  beforeAll(async () => {
    admin = await adminFor(kind, URLS[kind]);
  });
  afterAll(() => admin.close());

  it('gives each of two workers its own database from the schema, and drops both at teardown', async () => {
    const result = await runFixture(kind, []).done;
    expect({ code: result.code, output: result.code === 0 ? '' : explain(result) }).toEqual({ code: 0, output: '' });
    expect(result.stderr).toMatch(/Tests: +\d+ passed, \d+ total/);
    expect(result.stderr).not.toMatch(/skipped|todo/);

    const a = recorded<{ worker: string; name: string; url: string }>('isolation-a');
    const b = recorded<{ worker: string; name: string; url: string }>('isolation-b');
    expect(new Set([a.worker, b.worker])).toEqual(new Set(['1', '2']));
    expect(a.name).not.toBe(b.name);
    for (const { worker, name, url } of [a, b]) {
      expect(parseDatabaseName(name)).toEqual({ host: hostTag(), pid: expect.any(Number), role: `w${worker}` });
      expect(new URL(url).pathname).toBe(`/${name}`);
    }
    expect(parseDatabaseName(a.name)!.pid).toBe(parseDatabaseName(b.name)!.pid); // the one Jest process
    expect(await admin.existing([a.name, b.name])).toEqual([]);
  });

  it("with reset: 'truncate', the same guarantees hold", async () => {
    const result = await runFixture(kind, ['reset.test.js'], { DB_RESET: 'truncate' }).done;
    expect({ code: result.code, output: result.code === 0 ? '' : explain(result) }).toEqual({ code: 0, output: '' });
    expect(result.stderr).toMatch(/Tests: +4 passed, 4 total/);
  });

  it('ends a file that never released a pool client, and the next file finds its database reset, not locked', async () => {
    // In band, in name order: leak.test.js leaves a transaction open on a checked-out client, then reset.test.js.
    const result = await runFixture(kind, ['leak.test.js', 'reset.test.js'], {}, 1).done;
    expect({ code: result.code, output: result.code === 0 ? '' : explain(result) }).toEqual({ code: 0, output: '' });
    expect(result.stderr.indexOf('leak.test.js')).toBeLessThan(result.stderr.indexOf('reset.test.js'));
    expect(result.stderr).toMatch(/Tests: +5 passed, 5 total/);
  });

  it("a transaction left open fails the next test's reset with DATABASE_RESET_FAILED naming it, within Jest's default timeout", async () => {
    // The fixture file sets no timeout: Jest's default 5 s applies to the reset's beforeEach hook.
    const result = await runFixture(kind, ['--testMatch', '<rootDir>/blocked-reset.fails.js'], {}, 1).done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/Tests: +1 failed, 1 passed, 2 total/);
    expect(result.stderr).not.toContain('Exceeded timeout');
    expect(result.stderr).toContain('DatabaseResetError: [DATABASE_RESET_FAILED] Resetting the test database');
    expect(result.stderr).toContain('These connections hold a transaction open on it');
    if (kind === 'postgres')
      expect(result.stderr).toMatch(
        /pid \d+ application_name 'blocked-reset-fixture' \(idle in transaction\), last statement: INSERT INTO users \(name, email\) VALUES/,
      );
    else expect(result.stderr).toMatch(/connection \d+ \(Sleep for \d+ s, idle in transaction\)/);
  });

  it('drops the databases after a failing run too', async () => {
    const result = await runFixture(kind, ['mode.test.js'], { MODE: 'fail' }).done;
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/failing on purpose/);
    const { names } = recorded<{ names: string[] }>('mode');
    expect(names).toHaveLength(2);
    expect(await admin.existing(names)).toEqual([]);
  });

  it.each(['SIGINT', 'SIGTERM', 'SIGKILL'] as const)('drops the databases when the Jest process gets %s (the watchdog does)', async (signal) => {
    const killed = runFixture(kind, ['mode.test.js'], { MODE: 'hang' });
    await waitForFile(join(dir, 'mode.json'), killed);
    const { names, watchdog, worker } = recorded<{ names: string[]; watchdog: number; worker: number }>('mode');
    try {
      expect(watchdog).toBeGreaterThan(0);
      expect(await admin.existing(names)).toEqual(names);
      killed.child.kill(signal);
      const result = await killed.done;
      expect(result.code === null ? result.signal : result.code).toBeTruthy();
      // The watchdog drops them after Jest is gone and exits once they are dropped: its exit is the signal.
      expect(await waitForExit([watchdog], 30_000)).toEqual([]);
      expect(await admin.existing(names)).toEqual([]);
    } finally {
      // Jest leaves its worker behind when the Jest process alone is killed (see __tests__/preset/lifecycle.test.ts).
      if (isAlive(worker)) process.kill(worker, 'SIGKILL');
    }
  });

  it('drops the databases a killed run left when the next run starts, and no one else’s', async () => {
    const killed = runFixture(kind, ['mode.test.js'], { MODE: 'hang' });
    await waitForFile(join(dir, 'mode.json'), killed);
    const { names } = recorded<{ names: string[] }>('mode');
    expect(await admin.existing(names)).toEqual(names);
    killed.child.kill('SIGKILL');
    await killed.done;
    // Nothing ran the killed run's teardown. (Not asserted that they are still there now: any run starting on
    // this machine meanwhile, e.g. another test file of this suite, may already have dropped them, rightly.)
    // A database of a Jest process that is alive (this one) follows the same pattern and must survive.
    const alive = `jcc_${hostTag()}_${process.pid}_w1`;
    await admin.create(alive);
    try {
      rmSync(join(dir, 'mode.json'));
      const next = await runFixture(kind, ['mode.test.js'], { MODE: 'pass' }).done;
      expect({ code: next.code, output: next.code === 0 ? '' : explain(next) }).toEqual({ code: 0, output: '' });
      expect(await admin.existing(names)).toEqual([]);
      expect(await admin.existing([alive])).toEqual([alive]);
      // The next run's own databases are gone too.
      expect(await admin.existing(recorded<{ names: string[] }>('mode').names)).toEqual([]);
    } finally {
      await admin.drop(alive);
    }
  });
});
