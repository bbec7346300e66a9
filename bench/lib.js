// Small helpers shared by the bench/ scripts: timing, medians, running Jest as a whole process.
const { spawnSync } = require('child_process');
const path = require('path');

const REPO = path.resolve(__dirname, '..');
const JEST = path.join(REPO, 'node_modules', 'jest', 'bin', 'jest.js');

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function ms(start) {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function timeIt(fn) {
  const start = process.hrtime.bigint();
  await fn();
  return ms(start);
}

function requireBuilt() {
  try {
    return require(path.join(REPO, 'dist'));
  } catch {
    console.error('dist/ is missing: run `npm run build` first.');
    process.exit(2);
  }
}

/**
 * Runs Jest as users do (a whole process) on one config. Returns the wall time (start to exit), `run`: start to the
 * moment Jest had the results (after globalTeardown; what follows is Jest's exit wait, see resultsProbe.js), and
 * Jest's own per-file times summed (`files`).
 */
function runJest(config, extra = []) {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('JEST_')) delete env[k];
  const out = path.join(require('os').tmpdir(), `jcc-bench-${process.pid}.json`);
  const at = path.join(require('os').tmpdir(), `jcc-bench-${process.pid}.at`);
  env.JCC_BENCH_RESULTS_AT = at;
  const probe = path.join(__dirname, 'fixtures', 'resultsProbe.js');
  const startedAt = performance.timeOrigin + performance.now();
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [JEST, '--ci', '-c', config, '--json', '--outputFile', out, '--testResultsProcessor', probe, ...extra], { env, encoding: 'utf8' });
  const wall = ms(start);
  if (r.status !== 0) throw new Error(`jest failed for ${config}:\n${r.stdout}\n${r.stderr}`);
  const fs = require('fs');
  const results = JSON.parse(fs.readFileSync(out, 'utf8'));
  const run = Number(fs.readFileSync(at, 'utf8')) - startedAt;
  fs.rmSync(out, { force: true });
  fs.rmSync(at, { force: true });
  const files = results.testResults.map((t) => t.endTime - t.startTime);
  return { wall, run, files: files.reduce((a, b) => a + b, 0), tests: results.numPassedTests };
}

function fmt(x, digits = 1) {
  return x.toFixed(digits);
}

module.exports = { REPO, median, ms, timeIt, requireBuilt, runJest, fmt };
