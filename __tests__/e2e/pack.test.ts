/**
 * The package as users get it: `npm pack`, install the tarball into a fresh project with jest, ts-jest and
 * typescript, configure `preset: 'jest-cache-consistency'`, and run TypeScript tests there with two workers.
 * A second fresh project is an ES module project (`"type": "module"`, ts-jest with `useESM`, Jest with
 * `--experimental-vm-modules`) whose schema and contracts modules are TypeScript and `.mjs` ES modules.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, REPO, spawnJest } from '../helpers/processes';

jest.setTimeout(300_000);

const project = mkdtempSync(join(tmpdir(), 'jcc-e2e-'));
const esmProject = mkdtempSync(join(tmpdir(), 'jcc-e2e-esm-'));
const results = join(project, 'results');
afterAll(() => {
  rmSync(project, { recursive: true, force: true });
  rmSync(esmProject, { recursive: true, force: true });
});

function write(rel: string, text: string, root = project): void {
  const file = join(root, rel);
  mkdirSync(join(file, '..'), { recursive: true });
  writeFileSync(file, text);
}

function npm(args: string[], cwd: string): string {
  // REDISMS_DISABLE_POSTINSTALL: the optional redis-memory-server would otherwise try to download Redis.
  return execFileSync('npm', args, { cwd, env: cleanEnv({ REDISMS_DISABLE_POSTINSTALL: '1' }), encoding: 'utf8' });
}

beforeAll(() => {
  // `npm test` builds dist/ first; --ignore-scripts keeps pack from rebuilding it under running tests.
  const out = npm(['pack', '--ignore-scripts', '--json', '--pack-destination', project], REPO);
  const [{ filename, files }] = JSON.parse(out) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const shipped = files.map((f) => f.path);
  expect(shipped).toEqual(expect.arrayContaining(['jest-preset.js', 'dist/index.js', 'dist/index.d.ts', 'dist/setup.js', 'README.md']));
  expect(shipped.some((p) => p.startsWith('src/') || p.startsWith('__tests__/'))).toBe(false);

  write('package.json', JSON.stringify({ name: 'e2e-user-project', private: true, version: '1.0.0' }, null, 2));
  write(
    'jest.config.js',
    `module.exports = {
  preset: 'jest-cache-consistency',
  transform: { '^.+\\\\.tsx?$': 'ts-jest' },
  testEnvironmentOptions: { cacheConsistency: { database: { schema: ['db/schema.sql'] } } },
};
`,
  );
  write(
    'tsconfig.json',
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'commonjs', strict: true, esModuleInterop: true, skipLibCheck: true, types: ['jest', 'node'] },
    }),
  );
  write('db/schema.sql', 'CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL);\n');
  write(
    'src/userCache.ts',
    `import type Redis from 'ioredis';
interface Pool { query(sql: string, params?: unknown[]): Promise<{ rows: Array<{ id: number; name: string }> }> }
export class UserCache {
  constructor(private readonly pool: Pool, private readonly redis: Redis) {}
  async getUser(id: number) {
    const hit = await this.redis.get(\`user:\${id}\`);
    if (hit) return JSON.parse(hit);
    const { rows } = await this.pool.query('SELECT id, name FROM users WHERE id = $1', [id]);
    if (rows[0]) await this.redis.set(\`user:\${id}\`, JSON.stringify(rows[0]));
    return rows[0] ?? null;
  }
}
`,
  );
  const testFile = (n: number) => `import { writeFileSync } from 'fs';
import { join } from 'path';
import { redisUrl, testDb, testRedis } from 'jest-cache-consistency';
import { UserCache } from '../src/userCache';

const redis = testRedis();
const db = testDb();

test('file ${n}: the service caches a row from the embedded database in this worker\\'s redis', async () => {
  await db.query('INSERT INTO users (id, name) VALUES ($1, $2)', [1, 'Tom']);
  expect(await new UserCache(db.pool, redis).getUser(1)).toEqual({ id: 1, name: 'Tom' });
  expect(JSON.parse((await redis.get('user:1'))!)).toEqual({ id: 1, name: 'Tom' });
  const server = /process_id:(\\d+)/.exec(await redis.info('server'))![1];
  writeFileSync(join(${JSON.stringify(results)}, 'file${n}.json'),
    JSON.stringify({ url: redisUrl(), worker: process.env.JEST_WORKER_ID, server }));
});

test('file ${n}: the next test starts from an empty keyspace and the schema-only database', async () => {
  expect(await redis.dbsize()).toBe(0);
  expect(await db.query('SELECT * FROM users')).toEqual([]);
});
`;
  write('__tests__/one.test.ts', testFile(1));
  write('__tests__/two.test.ts', testFile(2));
  mkdirSync(results);

  const devDeps = ['jest@^30.5.2', 'ts-jest@^29.4.15', 'typescript@~6.0.3', '@types/jest@^30', '@types/node@^20'];
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', join(project, filename), ...devDeps], project);
  writeEsmProject();
  npm(['install', '--no-audit', '--no-fund', '--prefer-offline', join(project, filename), ...devDeps], esmProject);
});

/**
 * An ES module project as ts-jest documents it for ESM: `"type": "module"`, `.ts` treated as ESM, ts-jest with
 * `useESM`. Its schema has a TypeScript module and an `.mjs` module after the `.sql` file, and its contracts
 * are in a TypeScript module and an `.mjs` module; no test file imports them, so only the options load them.
 */
function writeEsmProject(): void {
  const w = (rel: string, text: string) => write(rel, text, esmProject);
  w('package.json', JSON.stringify({ name: 'e2e-esm-project', private: true, version: '1.0.0', type: 'module' }, null, 2));
  w(
    'jest.config.js',
    `export default {
  preset: 'jest-cache-consistency',
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.tsx?$': ['ts-jest', { useESM: true }] },
  testEnvironmentOptions: {
    cacheConsistency: {
      database: { schema: ['db/schema.sql', 'db/seed.ts', 'db/seed-more.mjs'] },
      consistency: { contracts: ['src/cacheContracts.ts', 'src/moreContracts.mjs'] },
    },
  },
};
`,
  );
  w(
    'tsconfig.json',
    JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'bundler', strict: true, esModuleInterop: true, skipLibCheck: true, isolatedModules: true, types: ['jest', 'node'] },
    }),
  );
  w('db/schema.sql', 'CREATE TABLE users (id integer PRIMARY KEY, name text NOT NULL);\nCREATE TABLE settings (name text PRIMARY KEY, value text NOT NULL);\n');
  // TypeScript (a type-only import and annotations) in ESM syntax with a top-level await: loadable only through
  // the transform, as an ES module, by import (Jest 30 can require an ES module, but not one that awaits).
  w(
    'db/seed.ts',
    `import type { TestDb } from 'jest-cache-consistency';
const rows = await Promise.resolve<Array<[number, string]>>([[1, 'Tom']]);
export default async function seed(db: TestDb): Promise<void> {
  for (const [id, name] of rows) await db.query('INSERT INTO users (id, name) VALUES ($1, $2)', [id, name]);
}
`,
  );
  // Top-level await: an ES module that no require() can load, on any Node.
  w(
    'db/seed-more.mjs',
    `const value = await Promise.resolve('EUR');
export default async function seed(db) {
  await db.query('INSERT INTO settings (name, value) VALUES ($1, $2)', ['currency', value]);
}
`,
  );
  w(
    'src/cacheContracts.ts',
    `import { defineCache } from 'jest-cache-consistency';
interface Profile { id: number; name: string }
const table: string = await Promise.resolve('users');
export const profileById = defineCache({
  key: 'profile:{id}',
  load: (db, { id }) => db.query<Profile>('SELECT id, name FROM ' + table + ' WHERE id = $1', [Number(id)]),
});
`,
  );
  w(
    'src/moreContracts.mjs',
    `import { defineCache } from 'jest-cache-consistency';
const value = await Promise.resolve('SELECT name, value FROM settings WHERE name = $1');
export default [defineCache({ key: 'config:{name}', load: (db, { name }) => db.query(value, [name]) })];
`,
  );
  w(
    '__tests__/esm.test.ts',
    `import { testDb, testRedis } from 'jest-cache-consistency';

const redis = testRedis();
const db = testDb();

test('the TypeScript and .mjs schema modules seeded the database', async () => {
  expect(await db.query('SELECT id, name FROM users')).toEqual([{ id: 1, name: 'Tom' }]);
  expect(await db.query('SELECT name, value FROM settings')).toEqual([{ name: 'currency', value: 'EUR' }]);
});

test('the contract of the TypeScript contracts module checks the cache', async () => {
  await redis.set('profile:1', JSON.stringify({ id: 1, name: 'Tom' }));
  await expect(redis).toBeConsistentWith(db);
  await redis.set('profile:1', JSON.stringify({ id: 1, name: 'Jerry' }));
  await expect(redis).not.toBeConsistentWith(db);
});

test('the contract of the .mjs contracts module checks the cache', async () => {
  await redis.set('config:currency', JSON.stringify({ name: 'currency', value: 'EUR' }));
  await expect(redis).toBeConsistentWith(db);
  await redis.set('config:currency', JSON.stringify({ name: 'currency', value: 'USD' }));
  await expect(redis).not.toBeConsistentWith(db);
});
`,
  );
}

it('runs with preset: "jest-cache-consistency" and gives each of two workers its own redis-server', async () => {
  // The project's own jest, as installed there: what users run.
  const jestBin = join(project, 'node_modules', 'jest', 'bin', 'jest.js');
  const result = await spawnJest(project, ['--maxWorkers=2', '--no-cache'], {}, jestBin).done;
  expect(result.stderr).toContain('Tests:       4 passed, 4 total');
  expect(result.code).toBe(0);
  const seen = readdirSync(results).map((f) => JSON.parse(readFileSync(join(results, f), 'utf8')));
  expect(seen).toHaveLength(2);
  expect(new Set(seen.map((s) => s.worker)).size).toBe(2);
  expect(new Set(seen.map((s) => s.url)).size).toBe(2);
  expect(new Set(seen.map((s) => s.server)).size).toBe(2);
});

describe('an ES module project (ts-jest useESM)', () => {
  const jestBin = () => join(esmProject, 'node_modules', 'jest', 'bin', 'jest.js');

  // Without --experimental-vm-modules Jest cannot run this project's ESM test files at all; the library's
  // error for that case (an ES module option module in a CommonJS project) is tested in __tests__/runtime/userModule.test.ts.
  it('loads TypeScript and .mjs schema and contracts modules through Jest\'s ESM loading', async () => {
    const result = await spawnJest(esmProject, ['--no-cache'], { NODE_OPTIONS: '--experimental-vm-modules' }, jestBin()).done;
    expect(result.stderr).toContain('Tests:       3 passed, 3 total');
    expect(result.code).toBe(0);
  });
});
