#!/usr/bin/env node
// bench/boot: what the preset costs. Prints, in one run, each figure against its baseline from the same run:
//  (a) redis-server spawn-to-PING (ours) vs redis-memory-server start
//  (b) wall time of a small suite with and without the preset          target: overhead < 10%
//  (c) 200 cache tests on a real server with our per-test reset vs ioredis-mock   target: <= 1.3x
//      (with two more baselines from the same runs: a hand-rolled globalSetup + FLUSHDB, and no reset at all)
//  (d) a Redis Cluster (3 masters; 3 masters + 3 replicas) start-up, against one server's
//  (e) require('jest-cache-consistency') in a Jest test file, against require('ioredis') in the same file
// Usage: npm run build && node bench/boot.js [--runs N] [--only a,b,c,d,e]
const path = require('path');
const { median, timeIt, requireBuilt, runJest, fmt, REPO } = require('./lib');

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 7;
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1].split(',') : ['a', 'b', 'c', 'd', 'e'];
const { startRedisServer, findRedisServerBinary } = requireBuilt();
const suite = (name) => path.join(REPO, 'bench', 'fixtures', 'suite', `jest.${name}.config.js`);

async function partA() {
  const { path: binary } = await findRedisServerBinary();
  let RedisMemoryServer;
  try {
    ({ RedisMemoryServer } = require('redis-memory-server'));
  } catch {
    RedisMemoryServer = undefined;
  }
  const ours = [];
  const theirs = [];
  for (let i = 0; i < runs * 3; i++) {
    let server;
    ours.push(await timeIt(async () => (server = await startRedisServer({ binary }))));
    await server.stop();
    if (RedisMemoryServer) {
      let rms;
      theirs.push(
        await timeIt(async () => {
          rms = new RedisMemoryServer({ binary: { systemBinary: binary } });
          await rms.start();
          await rms.getPort();
        }),
      );
      await rms.stop();
    }
  }
  console.log('(a) start one server, spawn to ready (median of %d)', ours.length);
  console.log('    startRedisServer (PING answered by our pid) %s ms', fmt(median(ours), 2));
  if (RedisMemoryServer) {
    console.log('    redis-memory-server start (log line)       %s ms', fmt(median(theirs), 2));
    console.log('    ratio ours / redis-memory-server           %sx', fmt(median(ours) / median(theirs), 2));
  } else console.log('    redis-memory-server is not installed: no baseline');
}

/** Runs each config `runs` times, in turn (A B C A B C ...: a drift in the machine's speed hits all alike). */
function interleaved(names) {
  for (const name of names) runJest(suite(name)); // warm Jest's transform cache
  const by = Object.fromEntries(names.map((n) => [n, []]));
  for (let i = 0; i < runs; i++) for (const name of names) by[name].push(runJest(suite(name)));
  const stat = (name, field) => median(by[name].map((r) => r[field]));
  return { stat, tests: by[names[0]][0].tests };
}

function row(name, stat) {
  console.log(
    '    %s wall %s ms   to results %s ms (then %s ms to exit)   in test files %s ms',
    name.padEnd(11),
    fmt(stat(name, 'wall'), 0).padStart(4),
    fmt(stat(name, 'run'), 0).padStart(4),
    fmt(stat(name, 'wall') - stat(name, 'run'), 0).padStart(3),
    fmt(stat(name, 'files'), 0).padStart(4),
  );
}

function ratios(label, ours, base, stat, target) {
  const r = (field) => fmt(stat(ours, field) / stat(base, field), 2);
  console.log('    %s  wall %sx   to results %sx   in test files %sx   %s', label.padEnd(26), r('wall'), r('run'), r('files'), target);
}

function partB() {
  const { stat } = interleaved(['logic-only', 'logic-preset']);
  console.log('(b) a small suite (4 files, 100 logic tests) without vs with the preset (medians of %d runs each)', runs);
  row('logic-only', stat);
  row('logic-preset', stat);
  const over = (field) => fmt((stat('logic-preset', field) / stat('logic-only', field) - 1) * 100, 1);
  console.log('    overhead: wall %s%%   to results %s%%   in test files %s%%   target < 10%%', over('wall'), over('run'), over('files'));
}

function partC() {
  const names = ['mock', 'real', 'handrolled', 'noreset'];
  const { stat, tests } = interleaved(names);
  console.log('(c) %d cache tests, 5 commands each (medians of %d runs each, the four run in turn)', tests, runs);
  console.log('    mock: ioredis-mock, flushall before each test     real: the preset, its reset before each test');
  console.log('    handrolled: a globalSetup starting redis-server + FLUSHDB per test     noreset: that, never reset');
  for (const name of names) row(name, stat);
  ratios('(c) real / mock', 'real', 'mock', stat, 'target <= 1.3x');
  ratios('handrolled / mock', 'handrolled', 'mock', stat, '(the issue measured 1.46x)');
  ratios("(c'') noreset / mock", 'noreset', 'mock', stat, '(the floor: no reset, no library)');
  ratios("(c') real / handrolled", 'real', 'handrolled', stat, '(what the library adds over doing it by hand)');
  ratios('real / noreset', 'real', 'noreset', stat, '(what the library and its reset add over no reset)');
  console.log("    'then ... to exit': Jest's default reporter arms a 100 ms status timer when the last file ends; a");
  console.log('    run that turned the event loop (any I/O) waits it out, one that never yielded (mock) does not.');
}

async function partD() {
  const { startRedisCluster } = require(path.join(REPO, 'dist', 'server', 'cluster'));
  const { path: binary } = await findRedisServerBinary();
  const fs = require('fs');
  const os = require('os');
  const single = [];
  for (let i = 0; i < 5; i++) {
    let s;
    single.push(await timeIt(async () => (s = await startRedisServer({ binary }))));
    await s.stop();
  }
  console.log('(d) Redis Cluster start-up, to cluster_state:ok on every node (median of 3)');
  console.log('    one server                    %s ms', fmt(median(single), 1));
  for (const [masters, replicasPerMaster] of [[3, 0], [3, 1]]) {
    const times = [];
    for (let i = 0; i < 3; i++) {
      const configDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jcc-bench-cluster-'));
      let c;
      times.push(await timeIt(async () => (c = await startRedisCluster({ binary, masters, replicasPerMaster, configDir }))));
      await c.stop();
      fs.rmSync(configDir, { recursive: true, force: true });
    }
    console.log('    %d masters + %d replicas each  %s ms (%sx one server; Redis holds a new master back ~2 s)', masters, replicasPerMaster, fmt(median(times), 0), fmt(median(times) / median(single), 0));
  }
}

function partE() {
  const fs = require('fs');
  const os = require('os');
  const out = path.join(os.tmpdir(), `jcc-bench-import-${process.pid}.json`);
  const entry = [];
  const ioredis = [];
  for (let i = 0; i < runs * 2; i++) {
    process.env.IMPORT_TIMES = out;
    runJest(suite('import'));
    const t = JSON.parse(fs.readFileSync(out, 'utf8'));
    entry.push(t.entry);
    ioredis.push(t.ioredis);
  }
  fs.rmSync(out, { force: true });
  console.log('(e) importing the package in a Jest test file (median of %d runs; paid once per test file)', entry.length);
  console.log("    require('jest-cache-consistency')  %s ms", fmt(median(entry), 2));
  console.log("    require('ioredis') (baseline)      %s ms", fmt(median(ioredis), 2));
  console.log('    ratio                              %sx', fmt(median(entry) / median(ioredis), 2));
}

(async () => {
  console.log('bench/boot on node %s, %d runs per figure\n', process.version, runs);
  if (only.includes('a')) {
    await partA();
    console.log();
  }
  if (only.includes('b')) {
    partB();
    console.log();
  }
  if (only.includes('c')) {
    partC();
    console.log();
  }
  if (only.includes('d')) await partD();
  if (only.includes('e')) {
    console.log();
    partE();
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
