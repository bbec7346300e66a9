/**
 * The package as users get it: `npm pack`, install the tarball into a fresh project with jest, ts-jest and
 * typescript, configure `preset: 'jest-cache-consistency'`, and run TypeScript tests there with two workers.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, REPO, spawnJest } from '../helpers/processes';

jest.setTimeout(300_000);

const project = mkdtempSync(join(tmpdir(), 'jcc-e2e-'));
const results = join(project, 'results');
afterAll(() => rmSync(project, { recursive: true, force: true }));

function write(rel: string, text: string): void {
  const file = join(project, rel);
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
});

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
