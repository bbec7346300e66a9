/**
 * jest-cache-consistency/vitest as users get it: `npm pack` the repo, install the tarball with vitest and
 * typescript into a fresh ESM project, once with each supported Vitest major (the repo's Vitest 3 and
 * VITEST_4 below), and run Vitest there with two workers on tests that use testRedis(),
 * testDb(), toBeConsistentWith (and .not) and toMatchKeyspaceSnapshot. Checks that each worker had its own
 * redis-server at the same time, that snapshots are written, matched and reported by Vitest, that nothing
 * is left running after the run, and that the shipped types compile (and fail where they should). A second
 * config on the same install boots a Redis Cluster and a real PostgreSQL database per worker.
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { cleanEnv, REPO, waitForExit, type Finished } from '../helpers/processes';

jest.setTimeout(300_000);

/**
 * The Vitest 4 the suite also runs on: the newest 4.x whose engines and vite peer (^6 || ^7 || ^8) run on
 * Node 20 (`npm view vitest@4 engines`: ^20.0.0 || ^22.0.0 || >=24.0.0). Vitest 3 is the repo's own devDependency.
 * Not a devDependency alias: vitest 3 and 4 in one install conflict over their optional peers (@vitest/ui).
 */
const VITEST_4 = '4.1.12';

/** Where the packed tarball is; each Vitest version gets a fresh project of its own (`project`, below). */
const packDir = mkdtempSync(join(tmpdir(), 'jcc-vitest-pack-'));
let tarball = '';
/** The project of the Vitest version whose tests run now: set by that version's beforeAll. */
let project = '';
const projects: string[] = [];
afterAll(() => {
  for (const dir of [packDir, ...projects]) rmSync(dir, { recursive: true, force: true });
});

function write(rel: string, text: string): void {
  const file = join(project, rel);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, text);
}

function npm(args: string[], cwd: string): string {
  // REDISMS_DISABLE_POSTINSTALL: the optional redis-memory-server would otherwise try to download Redis.
  return execFileSync('npm', args, { cwd, env: cleanEnv({ REDISMS_DISABLE_POSTINSTALL: '1' }), encoding: 'utf8' });
}

function installedVersion(pkg: string): string {
  return (JSON.parse(readFileSync(join(REPO, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;
}

/** Runs a binary of the temp project with Node, in a clean environment plus `env`. */
function run(bin: string[], args: string[], env: Record<string, string>): Promise<Finished> {
  const child = spawn(process.execPath, [join(project, 'node_modules', ...bin), ...args], { cwd: project, env: cleanEnv(env) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  return new Promise((res) => child.once('close', (code, signal) => res({ code, signal, stdout, stderr })));
}

interface Seen {
  file: string;
  pool: string;
  jestWorkerId: string;
  url: string;
  server: string;
  servers: number;
  watchdog: number;
  sockets: string[];
}

interface JsonReport {
  numPassedTests: number;
  numFailedTests: number;
  testResults: Array<{ name: string; assertionResults: Array<{ title: string; status: string; failureMessages: string[] }> }>;
}

/** One Vitest run: its exit, its JSON report, and what each test file recorded. */
async function vitest(name: string, args: string[], env: Record<string, string> = {}) {
  const results = join(project, 'results', name);
  mkdirSync(results, { recursive: true });
  const reportFile = join(project, `${name}.json`);
  // JEST_WORKER_ID is set on purpose: a Vitest run started from a Jest worker inherits it, and the library
  // must still number Vitest's workers by VITEST_POOL_ID.
  const finished = await run(['vitest', 'vitest.mjs'], ['run', '--reporter=json', `--outputFile=${reportFile}`, ...args], {
    RESULTS: results,
    JEST_WORKER_ID: '1',
    ...env,
  });
  const output = `${finished.stdout}\n${finished.stderr}`;
  if (!existsSync(reportFile)) throw new Error(`Vitest wrote no report (exit ${finished.code}):\n${output}`);
  const report = JSON.parse(readFileSync(reportFile, 'utf8')) as JsonReport;
  const seen = readdirSync(results)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(readFileSync(join(results, f), 'utf8')) as Seen);
  return { ...finished, output, report, seen };
}

/** The failed tests' titles and messages: empty when every test passed. */
function failures(report: JsonReport): string[] {
  return report.testResults.flatMap((f) => f.assertionResults.filter((t) => t.status !== 'passed').map((t) => `${t.title}: ${t.failureMessages.join('\n')}`));
}

function statuses(report: JsonReport): Record<string, string> {
  const out: Record<string, string> = {};
  for (const file of report.testResults) for (const t of file.assertionResults) out[t.title] = t.status;
  return out;
}

/** Everything the run started is gone: servers, the watchdog, and the folder of unix sockets. */
async function expectNothingLeft(seen: Seen[]): Promise<void> {
  const pids = [...new Set(seen.flatMap((s) => [Number(s.server), s.watchdog]))];
  expect(pids.every((p) => Number.isInteger(p) && p > 0)).toBe(true);
  expect(await waitForExit(pids, 10_000)).toEqual([]);
  for (const socket of seen.flatMap((s) => s.sockets)) expect(existsSync(dirname(socket))).toBe(false);
}

const testFile = (n: number) => `import { watch, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, inject, test } from 'vitest';
import { defineCache, redisUrl, testDb, testRedis } from 'jest-cache-consistency';

const redis = testRedis();
const db = testDb();
const userById = defineCache({
  key: 'user:{id}',
  load: (q, { id }) => q.query('SELECT id, name FROM users WHERE id = $1', [Number(id)]),
});
const results = process.env.RESULTS!;

/** Resolves once the other file's worker has started too: both workers are alive at the same time. */
function bothStarted(): Promise<void> {
  writeFileSync(join(results, 'started-${n}'), '');
  const other = join(results, 'started-${3 - n}');
  return new Promise((resolve) => {
    const watcher = watch(results, () => {
      if (existsSync(other)) { watcher.close(); resolve(); }
    });
    if (existsSync(other)) { watcher.close(); resolve(); }
  });
}

test('file ${n}: runs alongside the other file, on a server of its own', async () => {
  await bothStarted();
  await redis.set('owner', '${n}');
  const state = inject('cacheConsistencyState')!;
  const server = /process_id:(\\d+)/.exec(await redis.info('server'))![1];
  writeFileSync(join(results, 'file${n}.json'), JSON.stringify({
    file: '${n}', pool: process.env.VITEST_POOL_ID, jestWorkerId: process.env.JEST_WORKER_ID, url: redisUrl(), server,
    servers: state.redisUrls.length, watchdog: state.watchdogPid, sockets: state.redisSockets,
  }));
  expect(await redis.get('owner')).toBe('${n}');
}, 120_000);

test('file ${n}: a cached row is consistent, and stale once the row changes', async () => {
  await db.query('INSERT INTO users (id, name) VALUES ($1, $2)', [${n}, 'Tom']);
  await redis.set('user:${n}', JSON.stringify({ id: ${n}, name: 'Tom' }));
  await expect(redis).toBeConsistentWith(db, [userById]);
  await db.query('UPDATE users SET name = $1 WHERE id = $2', ['Jerry', ${n}]);
  await expect(redis).not.toBeConsistentWith(db, [userById]);
});

test('file ${n}: a stale entry fails toBeConsistentWith with the key in the message', async () => {
  await db.query('INSERT INTO users (id, name) VALUES ($1, $2)', [${n}, 'Jerry']);
  await redis.set('user:${n}', JSON.stringify({ id: ${n}, name: 'Tom' }));
  await expect(expect(redis).toBeConsistentWith(db, [userById])).rejects.toThrow(/user:${n}[\\s\\S]*stale/);
});

test('file ${n}: the schema module seeded the database; the registered contract checks the cache', async () => {
  expect(await db.query('SELECT name, value FROM settings')).toEqual([{ name: 'currency', value: 'EUR' }]);
  await redis.set('setting:currency', JSON.stringify({ name: 'currency', value: 'EUR' }));
  await expect(redis).toBeConsistentWith(db);
  await redis.set('setting:currency', JSON.stringify({ name: 'currency', value: 'USD' }));
  await expect(redis).not.toBeConsistentWith(db);
});

test('file ${n}: the keyspace matches its snapshot', async () => {
  expect.assertions(1);
  await redis.set('user:${n}', JSON.stringify({ id: ${n}, name: 'Tom' }));
  await redis.hset('session:${n}', { user: '${n}', cart: '3' });
  if (process.env.MUTATE === '${n}') await redis.set('extra', 'added');
  await expect(redis).toMatchKeyspaceSnapshot();
});

test('file ${n}: every test starts from an empty keyspace and the schema-only database', async () => {
  expect(await redis.dbsize()).toBe(0);
  expect(await db.query('SELECT * FROM users')).toEqual([]);
});
`;

const snapshotOf = (n: number) => `// Vitest Snapshot v1, https://vitest.dev/guide/snapshot.html

exports[\`file ${n}: the keyspace matches its snapshot 1\`] = \`
Keyspace {
  "session:${n}" (hash) {
    "cart": "3",
    "user": "${n}",
  },
  "user:${n}" (string) {
    "id": ${n},
    "name": "Tom",
  },
}
\`;
`;

const TESTS_PER_FILE = 6;

/** A test file for the cluster + PostgreSQL set-up: what it records, the matchers, the race helpers. */
const clusterPgTestFile = (n: number) => `import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, inject, test } from 'vitest';
import { defineCache, everyInterleaving, redisClusterNodes, testDb, testRedis } from 'jest-cache-consistency';

const redis: any = testRedis();
const db: any = testDb();
const userById = defineCache({
  key: 'user:{id}',
  load: (q, { id }) => q.query('SELECT id, name FROM users WHERE id = $1', [Number(id)]),
});

async function getUser(db: any, redis: any, id: number) {
  const hit = await redis.get('user:' + id);
  if (hit) return JSON.parse(hit);
  // The actors' db is the worker database's node-postgres pool: results come as { rows }.
  const { rows: [row] } = await db.query('SELECT id, name FROM users WHERE id = $1', [id]);
  if (row) await redis.set('user:' + id, JSON.stringify(row));
  return row;
}
async function updateUser(db: any, redis: any, id: number, name: string) {
  await db.query('UPDATE users SET name = $1 WHERE id = $2', [name, id]);
  await redis.del('user:' + id);
}

test('file ${n}: an ioredis Cluster of its own and a PostgreSQL database of its own', async () => {
  expect(redis.isCluster).toBe(true);
  expect(redisClusterNodes()).toHaveLength(3);
  expect(db.kind).toBe('postgres');
  const [{ current_database: name }] = await db.query('SELECT current_database()');
  const state = inject('cacheConsistencyState')!;
  writeFileSync(join(process.env.RESULTS!, 'cluster${n}.json'), JSON.stringify({
    file: '${n}', pool: process.env.VITEST_POOL_ID, database: name, nodes: redisClusterNodes(), watchdog: state.watchdogPid,
  }));
  await db.query('INSERT INTO users (id, name) VALUES ($1, $2)', [${n}, 'Tom']);
  for (let i = 0; i < 30; i++) await redis.set('k:' + i, String(i));
  await redis.set('user:${n}', JSON.stringify({ id: ${n}, name: 'Tom' }));
  await expect(redis).toBeConsistentWith(db, [userById]);
  await db.query('UPDATE users SET name = $1 WHERE id = $2', ['Jerry', ${n}]);
  await expect(redis).not.toBeConsistentWith(db, [userById]);
});

test('file ${n}: everyInterleaving catches the classic race on the cluster and PostgreSQL', async () => {
  const error: any = await everyInterleaving({
    setup: ({ db }: any) => db.query("INSERT INTO users (id, name) VALUES (1, 'Tom')"),
    actors: {
      reader: ({ redis, db }: any) => getUser(db, redis, 1),
      writer: ({ redis, db }: any) => updateUser(db, redis, 1, 'Jerry'),
    },
    check: async ({ redis, db }: any) => {
      await expect(redis).toBeConsistentWith(db, [userById]);
    },
  }).catch((e: unknown) => e);
  expect(String(error?.message)).toContain('r1:reader*2,writer*2,reader');
});

test('file ${n}: every test starts with empty masters and the schema-only database', async () => {
  expect(await db.query('SELECT * FROM users')).toEqual([]);
  const sizes = await Promise.all(redis.nodes('master').map((node: any) => node.dbsize()));
  expect(sizes).toEqual([0, 0, 0]);
});
`;

beforeAll(() => {
  // `npm test` builds dist/ first; --ignore-scripts keeps pack from rebuilding it under running tests.
  const out = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', packDir], REPO);
  const [{ filename, files }] = JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>;
  expect(files.map((f) => f.path)).toEqual(
    expect.arrayContaining(['dist/vitest/index.mjs', 'dist/vitest/index.d.mts', 'dist/vitest/globalSetup.mjs', 'dist/vitest/globalSetup.d.mts']),
  );
  tarball = join(packDir, filename);
});

/** A fresh project for one Vitest version: the same files, with the few config keys that differ by major. */
function setUpProject(version: string): void {
  project = mkdtempSync(join(tmpdir(), `jcc-vitest${major(version)}-`));
  projects.push(project);
  // Vitest 3 wants minWorkers <= maxWorkers when maxWorkers is below its default; Vitest 4 has no minWorkers.
  const minWorkers = major(version) === 3 ? ' minWorkers: 1,' : '';
  write('package.json', JSON.stringify({ name: 'vitest-user-project', private: true, version: '1.0.0', type: 'module' }, null, 2));
  write(
    'vitest.config.ts',
    `import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    globalSetup: ['jest-cache-consistency/vitest/global-setup'],
    setupFiles: ['jest-cache-consistency/vitest'],
    provide: {
      cacheConsistency: {
        database: { schema: ['db/schema.sql', 'db/seed.js'] },
        consistency: { contracts: ['src/contracts.js'] },
      },
    },
    include: ['__tests__/**/*.test.ts'],
    maxWorkers: 2,${minWorkers}
  },
});
`,
  );
  write('db/schema.sql', 'CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL);\n');
  // Schema and contract modules as ES modules of this "type": "module" project.
  write(
    'db/seed.js',
    `export default async function seed(db) {
  await db.query('CREATE TABLE settings (name text PRIMARY KEY, value text NOT NULL)');
  await db.query("INSERT INTO settings (name, value) VALUES ('currency', 'EUR')");
}
`,
  );
  write(
    'src/contracts.js',
    `import { defineCache } from 'jest-cache-consistency';
export const settingByName = defineCache({
  key: 'setting:{name}',
  load: (db, { name }) => db.query('SELECT name, value FROM settings WHERE name = $1', [name]),
});
`,
  );
  write('__tests__/one.test.ts', testFile(1));
  write('__tests__/two.test.ts', testFile(2));
  // How users type-check (docs/vitest.md#types): bundler resolution, the package's Vitest types, tests and config.
  write(
    'tsconfig.json',
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'preserve',
        moduleResolution: 'bundler',
        strict: true,
        noEmit: true,
        skipLibCheck: true,
        types: ['node', 'jest-cache-consistency/vitest'],
      },
      include: ['__tests__', 'vitest.config.ts'],
    }),
  );
  // The setup entry also exports its two error classes (docs/vitest.md#errors); compiled with tsconfig.json.
  write(
    '__tests__/setupErrors.ts',
    `import { VitestGlobalSetupMissingError, VitestWorkerWithoutServerError } from 'jest-cache-consistency/vitest';
export const codes: string[] = [VitestGlobalSetupMissingError.name, VitestWorkerWithoutServerError.name];
`,
  );
  // The Vitest typings alone (no import of the main entry, whose Jest typings also reach Vitest's Assertion).
  write(
    'types/matchers.ts',
    `import { expect, inject } from 'vitest';

declare const redis: object;
declare const db: object;

export async function check(): Promise<number> {
  const done: Promise<void> = expect(redis).toBeConsistentWith(db);
  await done;
  await expect(redis).not.toBeConsistentWith(db, { strict: true });
  await expect(redis).toMatchKeyspaceSnapshot({ match: 'user:*' }, 'users');
  // @ts-expect-error the database argument is required
  await expect(redis).toBeConsistentWith();
  // @ts-expect-error async matchers are not asymmetric matchers
  expect.toMatchKeyspaceSnapshot();
  return inject('cacheConsistencyState')?.redisUrls.length ?? 0;
}
`,
  );
  const typesOnly = (types: string[]) =>
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'preserve', moduleResolution: 'bundler', strict: true, noEmit: true, skipLibCheck: true, types },
      files: ['types/matchers.ts'],
    });
  write('tsconfig.types.json', typesOnly(['node', 'jest-cache-consistency/vitest']));
  write('tsconfig.no-types.json', typesOnly(['node']));

  // A second set-up on the same install: a Redis Cluster and a real PostgreSQL database per worker.
  write(
    'vitest.cluster-pg.config.ts',
    `import { defineConfig } from 'vitest/config';
export default defineConfig({ test: {
  globalSetup: ['jest-cache-consistency/vitest/global-setup'], setupFiles: ['jest-cache-consistency/vitest'],
  provide: { cacheConsistency: {
    redis: { cluster: { masters: 3, replicasPerMaster: 0 } },
    database: { kind: 'postgres', url: 'postgres://postgres@127.0.0.1:5432/test', schema: ['db/schema.sql'] },
  } },
  include: ['cluster/**/*.test.ts'], maxWorkers: 2,${minWorkers}
} });
`,
  );
  write('cluster/one.test.ts', clusterPgTestFile(1));
  write('cluster/two.test.ts', clusterPgTestFile(2));

  // Lazy reset: four files in name order on one worker; only b and d ask for Redis.
  write(
    'vitest.lazy.config.ts',
    `import { defineConfig } from 'vitest/config';
import { BaseSequencer } from 'vitest/node';
class ByName extends BaseSequencer {
  async sort(files: any[]) { return [...files].sort((x, y) => (x.moduleId < y.moduleId ? -1 : 1)); }
}
export default defineConfig({ test: {
  globalSetup: ['jest-cache-consistency/vitest/global-setup'], setupFiles: ['jest-cache-consistency/vitest'],
  include: ['lazy/**/*.test.ts'], maxWorkers: 1,${minWorkers} fileParallelism: false, sequence: { sequencer: ByName },
} });
`,
  );
  const logicFile = (name: string) => `import { expect, test } from 'vitest';
for (const i of [1, 2, 3]) test('${name} ' + i, () => expect(i + 1).toBeGreaterThan(i));
`;
  write('lazy/a-logic.test.ts', logicFile('a'));
  write(
    'lazy/b-redis.test.ts',
    `import { afterAll, beforeAll, expect, test } from 'vitest';
import Redis from 'ioredis';
import { redisUrl, testRedis } from 'jest-cache-consistency';
const redis = testRedis();
// Writes after the file's last test, from places that run after the setup file's afterAll: a beforeAll cleanup
// and an afterAll of the file's own (registered after the setup file's, so run before it under 'stack').
beforeAll(() => {
  const app = new Redis(redisUrl());
  return async () => {
    await app.set('written:by-a-beforeAll-cleanup', 'x');
    await app.quit();
  };
});
afterAll(async () => {
  const app = new Redis(redisUrl());
  await app.set('written:by-afterAll', 'x');
  await app.quit();
});
test('b starts empty, writes', async () => {
  expect(await redis.dbsize()).toBe(0);
  await redis.set('b:1', 'x');
});
test('b starts empty again, leaves a key behind', async () => {
  expect(await redis.dbsize()).toBe(0);
  await redis.set('left:behind', 'by b');
});
`,
  );
  write('lazy/c-logic.test.ts', logicFile('c'));
  write(
    'lazy/d-count.test.ts',
    `import { expect, test } from 'vitest';
import { testRedis } from 'jest-cache-consistency';
test('d finds Redis empty, and counts the FLUSHALLs so far', async () => {
  const redis = testRedis();
  expect(await redis.keys('*')).toEqual([]);
  const calls = /cmdstat_flushall:calls=(\\d+)/.exec(await redis.info('commandstats'))?.[1];
  expect(calls).toBe(process.env.EXPECTED_FLUSHALLS);
});
`,
  );

  const devDeps = [`vitest@${version}`, `typescript@${installedVersion('typescript')}`, `pg@${installedVersion('pg')}`, '@types/node@^20'];
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tarball, ...devDeps], project);
  // The version under test is the one installed (npm would say so if the peer range refused it).
  expect((JSON.parse(readFileSync(join(project, 'node_modules', 'vitest', 'package.json'), 'utf8')) as { version: string }).version).toBe(version);
}

function major(version: string): number {
  return Number(version.split('.')[0]);
}

describe.each([installedVersion('vitest'), VITEST_4])('Vitest %s on the packed package', (version) => {
  beforeAll(() => setUpProject(version));

  it('gives each of two concurrent workers its own redis-server, writes keyspace snapshots, and leaves nothing running', async () => {
    const r = await vitest('first', ['--update']);
    expect({ code: r.code, failures: failures(r.report) }).toEqual({ code: 0, failures: [] });
    expect(r.report.numPassedTests).toBe(2 * TESTS_PER_FILE);
    expect(r.seen).toHaveLength(2);
    expect(r.seen.map((s) => s.pool).sort()).toEqual(['1', '2']);
    expect(r.seen.every((s) => s.jestWorkerId === '1')).toBe(true); // inherited, and ignored
    expect(r.seen.every((s) => s.servers === 2)).toBe(true);
    expect(new Set(r.seen.map((s) => s.url)).size).toBe(2);
    expect(new Set(r.seen.map((s) => s.server)).size).toBe(2);
    expect(readFileSync(join(project, '__tests__', '__snapshots__', 'one.test.ts.snap'), 'utf8')).toBe(snapshotOf(1));
    expect(readFileSync(join(project, '__tests__', '__snapshots__', 'two.test.ts.snap'), 'utf8')).toBe(snapshotOf(2));
    await expectNothingLeft(r.seen);
  });

  it('compares against the stored snapshots: an unchanged keyspace passes, a changed one fails with a diff (threads pool, 3 workers)', async () => {
    // CI=1: Vitest writes no snapshot, so a mismatch fails. MUTATE=2: file two adds a key.
    // Vitest 4 replaced poolOptions.threads.maxThreads with maxWorkers.
    const threeThreads = major(version) === 3 ? ['--poolOptions.threads.maxThreads=3'] : ['--maxWorkers=3'];
    const r = await vitest('second', ['--pool=threads', ...threeThreads], { CI: '1', MUTATE: '2' });
    expect(r.code).toBe(1);
    const s = statuses(r.report);
    expect(s['file 1: the keyspace matches its snapshot']).toBe('passed');
    expect(s['file 2: the keyspace matches its snapshot']).toBe('failed');
    expect({ passed: r.report.numPassedTests, failed: r.report.numFailedTests }).toEqual({ passed: 2 * TESTS_PER_FILE - 1, failed: 1 });
    const failure = r.report.testResults.flatMap((f) => f.assertionResults).find((t) => t.status === 'failed')!.failureMessages.join('\n');
    expect(failure).toContain('expect(received).toMatchKeyspaceSnapshot()');
    expect(failure).toContain('Snapshot `file 2: the keyspace matches its snapshot 1` mismatched');
    // Three servers for a pool of three threads; the two files still ran at once on two of them.
    expect(r.seen.every((s) => s.servers === 3)).toBe(true);
    expect(new Set(r.seen.map((s) => s.pool)).size).toBe(2);
    expect(new Set(r.seen.map((s) => s.server)).size).toBe(2);
    // The stored snapshot is untouched.
    expect(readFileSync(join(project, '__tests__', '__snapshots__', 'two.test.ts.snap'), 'utf8')).toBe(snapshotOf(2));
    await expectNothingLeft(r.seen);
  });

  it('boots a Redis Cluster and a real PostgreSQL database per worker: matchers, reset and race helpers work there', async () => {
    const results = join(project, 'results', 'cluster-pg');
    mkdirSync(results, { recursive: true });
    const reportFile = join(project, 'cluster-pg.json');
    const r = await run(['vitest', 'vitest.mjs'], ['run', '--config', 'vitest.cluster-pg.config.ts', '--reporter=json', `--outputFile=${reportFile}`], {
      RESULTS: results,
    });
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as JsonReport;
    expect({ code: r.code, failures: failures(report) }).toEqual({ code: 0, failures: [] });
    expect(report.numPassedTests).toBe(6);
    const seen = readdirSync(results).map((f) => JSON.parse(readFileSync(join(results, f), 'utf8')) as { pool: string; database: string; nodes: Array<{ port: number }>; watchdog: number });
    expect(seen).toHaveLength(2);
    // Two workers at once: each its own database and its own three masters.
    expect(new Set(seen.map((s) => s.database)).size).toBe(2);
    expect(new Set(seen.flatMap((s) => s.nodes.map((n) => n.port))).size).toBe(6);
    // Nothing left: the per-worker databases are dropped, the nodes and the watchdog are gone.
    const { Client } = require(join(REPO, 'node_modules', 'pg')) as typeof import('pg');
    const admin = new Client({ connectionString: 'postgres://postgres@127.0.0.1:5432/test' });
    await admin.connect();
    try {
      const left = await admin.query('SELECT datname FROM pg_database WHERE datname = ANY($1)', [seen.map((s) => s.database)]);
      expect(left.rows).toEqual([]);
    } finally {
      await admin.end();
    }
    expect(await waitForExit([seen[0]!.watchdog], 10_000)).toEqual([]);
    for (const { port } of seen.flatMap((s) => s.nodes)) {
      await expect(
        new Promise((resolve, reject) => {
          const socket = require('node:net').connect(port, '127.0.0.1');
          socket.once('connect', () => (socket.destroy(), resolve('open')));
          socket.once('error', reject);
        }),
      ).rejects.toThrow(/ECONNREFUSED/);
    }
  });

  it('empties Redis only where it can matter, as under Jest: not per test in files that never ask for it', async () => {
    // One process for every file (--no-isolate): a never (first on its server), b before each of its 2 tests, c
    // once at its first test (b asked, and wrote after its last test), d never (it asks inside its test, c left
    // it empty): 3. With a fresh process per file (the default), b, c and d run in processes that are not the
    // first on the server: b 2, c 1, d 1: 4. Before: 9, one per test.
    for (const [args, expected] of [[['--no-isolate'], '3'], [[], '4']] as const) {
      const reportFile = join(project, 'lazy.json');
      const r = await run(['vitest', 'vitest.mjs'], ['run', '--config', 'vitest.lazy.config.ts', '--reporter=json', `--outputFile=${reportFile}`, ...args], {
        EXPECTED_FLUSHALLS: expected,
      });
      const report = JSON.parse(readFileSync(reportFile, 'utf8')) as JsonReport;
      expect({ args, code: r.code, failures: failures(report) }).toEqual({ args, code: 0, failures: [] });
      expect(report.testResults.map((f) => f.name.replace(/.*\//, ''))).toEqual(['a-logic.test.ts', 'b-redis.test.ts', 'c-logic.test.ts', 'd-count.test.ts']);
      expect(report.numPassedTests).toBe(9);
    }
  });

  it('reports a misspelt option under the path Vitest users write', async () => {
    write(
      'vitest.bad-option.config.ts',
      `import { defineConfig } from 'vitest/config';
export default defineConfig({ test: {
  globalSetup: ['jest-cache-consistency/vitest/global-setup'], setupFiles: ['jest-cache-consistency/vitest'],
  provide: { cacheConsistency: { redis: { bianry: '/usr/bin/redis-server' } } as never },
} });
`,
    );
    const r = await run(['vitest', 'vitest.mjs'], ['run', '--config', 'vitest.bad-option.config.ts'], {});
    expect(r.code).toBe(1);
    expect(`${r.stdout}\n${r.stderr}`).toContain(
      'Invalid option test.provide.cacheConsistency.redis.bianry: unknown option. Did you mean "binary"?',
    );
  });

  it('fails every file with VITEST_GLOBAL_SETUP_MISSING when the setup file runs without the global setup', async () => {
    write(
      'vitest.no-global-setup.config.ts',
      `import { defineConfig } from 'vitest/config';
export default defineConfig({ test: { setupFiles: ['jest-cache-consistency/vitest'], include: ['__tests__/**/*.test.ts'] } });
`,
    );
    const r = await run(['vitest', 'vitest.mjs'], ['run', '--config', 'vitest.no-global-setup.config.ts'], {});
    expect(r.code).toBe(1);
    expect(`${r.stdout}\n${r.stderr}`).toContain('VitestGlobalSetupMissingError: [VITEST_GLOBAL_SETUP_MISSING] jest-cache-consistency/vitest is in setupFiles, but its global setup did not run');
  });

  it('ships types: the tests and config compile; the Vitest typings alone type the matchers, and without them the same file fails', async () => {
    const tsc = ['typescript', 'bin', 'tsc'];
    const all = await run(tsc, ['-p', 'tsconfig.json'], {});
    expect(all.stdout + all.stderr).toBe('');
    expect(all.code).toBe(0);
    const typed = await run(tsc, ['-p', 'tsconfig.types.json'], {});
    expect(typed.stdout + typed.stderr).toBe('');
    expect(typed.code).toBe(0);
    const untyped = await run(tsc, ['-p', 'tsconfig.no-types.json'], {});
    expect(untyped.code).not.toBe(0);
    expect(untyped.stdout).toContain("Property 'toBeConsistentWith' does not exist");
  });
});
