#!/usr/bin/env node
// bench/boot: what the preset costs. Prints, in one run, each figure against its baseline from the same run:
//  (a) redis-server spawn-to-PING (ours) vs redis-memory-server start
//  (b) wall time of a small suite with and without the preset          target: overhead < 10%
//  (c) 200 cache tests on a real server with our per-test reset vs ioredis-mock   target: <= 1.3x
//  (d) a Redis Cluster (3 masters; 3 masters + 3 replicas) start-up, against one server's
// Usage: npm run build && node bench/boot.js [--runs N] [--only a,b,c,d]
const path = require('path');
const { median, timeIt, requireBuilt, runJest, fmt, REPO } = require('./lib');

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 7;
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1].split(',') : ['a', 'b', 'c', 'd'];
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

function pair(label, baseName, oursName, target) {
  runJest(suite(baseName));
  runJest(suite(oursName)); // warm Jest's transform cache for both
  const base = [];
  const ours = [];
  for (let i = 0; i < runs; i++) {
    base.push(runJest(suite(baseName)));
    ours.push(runJest(suite(oursName)));
  }
  const bw = median(base.map((r) => r.wall));
  const ow = median(ours.map((r) => r.wall));
  const bf = median(base.map((r) => r.files));
  const of = median(ours.map((r) => r.files));
  console.log('%s (median of %d whole Jest runs, %d tests each)', label, runs, ours[0].tests);
  console.log('    %s wall %s ms   in test files %s ms', baseName.padEnd(14), fmt(bw, 0), fmt(bf, 0));
  console.log('    %s wall %s ms   in test files %s ms', oursName.padEnd(14), fmt(ow, 0), fmt(of, 0));
  console.log('    ratio wall %sx (overhead %s%%), in test files %sx   target %s', fmt(ow / bw, 2), fmt((ow / bw - 1) * 100), fmt(of / bf, 2), target);
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

(async () => {
  console.log('bench/boot on node %s, %d runs per figure\n', process.version, runs);
  if (only.includes('a')) {
    await partA();
    console.log();
  }
  if (only.includes('b')) {
    pair('(b) a small suite (4 files, 100 logic tests) without vs with the preset', 'logic-only', 'logic-preset', 'overhead < 10%');
    console.log();
  }
  if (only.includes('c')) {
    pair('(c) 200 cache tests: ioredis-mock vs a real redis-server reset before each test', 'mock', 'real', '<= 1.3x');
    console.log();
    pair('(c\') the same 200 tests: a hand-rolled globalSetup + FLUSHDB per test vs the preset (what the library itself adds)', 'handrolled', 'real', 'about 1x');
    console.log();
    pair('(c\'\') the floor: ioredis-mock vs the same tests on a real server never reset at all (no reset can beat this)', 'mock', 'noreset', 'for reference');
    console.log('    (each test sends 5 commands; a loopback round trip costs ~60-150 us here, an ioredis-mock call ~5 us.');
    console.log('     A run that yields to I/O also keeps Jest\'s reporter alive up to 100 ms after the last file (its');
    console.log('     status debounce); a mock suite that never yields does not. Neither is the reset: see (c\'\').)');
    console.log();
  }
  if (only.includes('d')) await partD();
})().catch((err) => {
  console.error(err);
  process.exit(1);
});
