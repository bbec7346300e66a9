#!/usr/bin/env node
/**
 * npm run demo: the library catching docs/races.md #1 in the bundled example service, then the fixed service
 * passing. Runs the repository's Jest (the preset from src/, through ts-jest: no build needed) on two
 * example test files and prints what it reports.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const jest = require.resolve('jest/bin/jest', { paths: [root] });

function runJest(file) {
  const result = spawnSync(
    process.execPath,
    [jest, '--config', path.join(root, 'jest.config.js'), '--rootDir', root, '--testMatch', '<rootDir>/examples/demo/*.demo.ts', '--runTestsByPath', file, '--colors'],
    { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '1' } },
  );
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

function banner(text) {
  const line = '='.repeat(Math.max(60, text.length + 4));
  console.log(`\n${line}\n  ${text}\n${line}\n`);
}

banner('1/2  examples/services/cacheAside.ts: "update the database, then delete the key" (docs/races.md #1)');
const buggy = runJest(path.join('examples', 'demo', 'seed.cacheAside.demo.ts'));
process.stdout.write(buggy.output);
const caught = buggy.status !== 0 && buggy.output.includes('everyInterleaving found a failing schedule');

banner('2/2  examples/services/leaseCache.ts: the same service with a lease and a compare-and-set fill');
const fixed = runJest(path.join('examples', 'demo', 'seed.lease.demo.ts'));
process.stdout.write(fixed.output);
const passed = fixed.status === 0;

banner('Result');
console.log(`  cache-aside: ${caught ? 'race caught, with the failing schedule, its timeline and a replay token (above)' : 'NOT caught (unexpected)'}`);
console.log(`  lease fix:   ${passed ? 'every interleaving consistent' : 'FAILED (unexpected)'}`);
process.exitCode = caught && passed ? 0 : 1;
