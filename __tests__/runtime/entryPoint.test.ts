/**
 * Every test file that imports the package loads its entry point, in a module registry of its own: what the
 * entry point loads eagerly is paid once per test file. It must load the runtime core only; the rest (servers,
 * client adapters, databases, the comparison, the race helpers) loads on first call. Checked on the built
 * package (`npm test` builds dist/ first), in a fresh process.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const DIST = join(__dirname, '..', '..', 'dist');

function modulesLoadedBy(script: string): string[] {
  const out = execFileSync(
    process.execPath,
    [
      '-e',
      `const before = new Set(Object.keys(require.cache));
       ${script}
       const dist = ${JSON.stringify(DIST + '/')};
       console.log(JSON.stringify(Object.keys(require.cache).filter((k) => !before.has(k) && k.startsWith(dist)).map((k) => k.slice(dist.length)).sort()));`,
    ],
    { encoding: 'utf8' },
  );
  return JSON.parse(out) as string[];
}

test('importing the entry point loads the runtime core, nothing of servers, adapters, databases or races', () => {
  const loaded = modulesLoadedBy(`require(${JSON.stringify(join(DIST, 'index.js'))});`);
  expect(loaded).toEqual([
    'consistency/contract.js', // defineCache() runs at a test file's top level
    'consistency/pattern.js',
    'consistency/writers.js',
    'db/types.js',
    'errors.js', // the error classes, for instanceof
    'index.js',
    'keyspace/codecs.js', // keyvCodec() / bentocacheCodec() run at a test file's top level, inside defineCache()
    'keyspace/lazySerializer.js',
    'keyspace/types.js',
    'lazy.js',
    'matchers/lazy.js',
    'optionKeys.js', // defineCache() refuses unknown options ("did you mean")
    'preset/cleanup.js',
    'preset/state.js',
    'runtime/testContext.js',
  ]);
});

test('the exports that load on first call work, and load their module then', () => {
  const loaded = modulesLoadedBy(
    `const lib = require(${JSON.stringify(join(DIST, 'index.js'))});
     if (lib.toQueryable((sql) => []).kind !== 'function') throw new Error('toQueryable');
     if (lib.isRedisAdapter({}) !== false) throw new Error('isRedisAdapter');
     if (typeof lib.findRedisServerBinary !== 'function' || typeof lib.startRedisServer !== 'function') throw new Error('server');`,
  );
  expect(loaded).toEqual(expect.arrayContaining(['db/toQueryable.js', 'redis/toRedisAdapter.js']));
  expect(loaded).not.toContain('server/redisServer.js'); // not called, not loaded
});
