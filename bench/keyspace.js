#!/usr/bin/env node
/*
 * bench/keyspace: captureKeyspace against the blocking baseline, `KEYS *` + MGET, measured in the same run on the
 * same redis-server. The server is one the library started (startRedisServer), so the capture reads an RDB
 * snapshot: one SAVE into the server's private folder, the file read and parsed here (docs/keyspace-snapshots.md#speed).
 * `captureNoRdb` is the same capture with that path off, as on a server of yours: without TTLs SCAN pages + one MGET
 * per page; once some key has a TTL, one Lua script call per page (SCAN, MGET and every key's PTTL on the server).
 *
 *   npm run build && node bench/keyspace.js [--runs 11] [--strings 100000] [--mixed 20000]
 *
 * 1. 100k string keys, no TTL; 2. the same with a TTL on every 10th key: captureKeyspace against
 *    KEYS * + MGET (1000 keys per MGET, pipelined) in its two usual forms: values as strings (ioredis'
 *    keys/mget, decoding UTF-8 as captureKeyspace does) and as Buffers (keysBuffer/mgetBuffer, no decoding).
 *    Target: ≤ 1.2x. Once any key has a TTL the capture must read every key's TTL (one PTTL per key: Redis has
 *    no bulk TTL read), so case 2 also runs the baseline that reads the same: KEYS * + MGET + pipelined PTTL.
 * 3. 20k keys of every type (a TTL on every 10th): captureKeyspace against KEYS * + pipelined TYPE, then the
 *    type's full read (GET, HGETALL, LRANGE, SMEMBERS, ZRANGE WITHSCORES, XRANGE), 1000 keys per pipeline.
 * The baselines read less (no TTLs, no sorting, no binary check) and block the server for the whole KEYS.
 * Each figure is the median of --runs runs; the sides take turns going first. Wall times depend on what else
 * the machine runs (the load average is printed); client and server CPU times much less.
 */
const Redis = require('ioredis');
const { median, timeIt, requireBuilt, fmt, REPO } = require('./lib');

const args = process.argv.slice(2);
function arg(name, fallback) {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
}
const RUNS = arg('runs', 11);
const STRINGS = arg('strings', 100_000);
const MIXED = arg('mixed', 20_000);
const CHUNK = 1000;

const { captureKeyspace, findRedisServerBinary } = requireBuilt();
const { startRedisServer } = require(`${REPO}/dist/server/redisServer`);
const { rdbCapture } = require(`${REPO}/dist/keyspace/capture`);

function chunks(list, size) {
  const out = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}

async function loadStrings(r, n, withTtl) {
  for (const part of chunks(Array.from({ length: n }, (_, i) => i), 5000)) {
    const p = r.pipeline();
    for (const i of part) {
      const value = JSON.stringify({ id: i, name: `user ${i}`, email: `user${i}@example.com`, active: i % 2 === 0 });
      if (withTtl && i % 10 === 0) p.set(`user:${i}`, value, 'EX', 3600);
      else p.set(`user:${i}`, value);
    }
    await p.exec();
  }
}

async function loadMixed(r, n) {
  for (const part of chunks(Array.from({ length: n }, (_, i) => i), 2000)) {
    const p = r.pipeline();
    for (const i of part) {
      switch (i % 6) {
        case 0: p.set(`s:${i}`, JSON.stringify({ id: i, v: 'x'.repeat(20) })); break;
        case 1: p.hset(`h:${i}`, Object.fromEntries(Array.from({ length: 10 }, (_, f) => [`f${f}`, `v${i}.${f}`]))); break;
        case 2: p.rpush(`l:${i}`, ...Array.from({ length: 10 }, (_, e) => `item${e}`)); break;
        case 3: p.sadd(`set:${i}`, ...Array.from({ length: 10 }, (_, e) => `m${e}`)); break;
        case 4: p.zadd(`z:${i}`, ...Array.from({ length: 10 }, (_, e) => [e % 3, `m${e}`]).flat()); break;
        default:
          for (let e = 1; e <= 5; e++) p.xadd(`x:${i}`, `${e}-0`, 'type', 'event', 'n', String(e));
      }
      if (i % 10 === 0) p.expire(Object.values({ 0: `s:${i}`, 1: `h:${i}`, 2: `l:${i}`, 3: `set:${i}`, 4: `z:${i}`, 5: `x:${i}` })[i % 6], 600);
    }
    await p.exec();
  }
}

/** captureKeyspace without the RDB snapshot path (what it does on a server the library did not start). */
async function captureNoRdb(r) {
  const minKeys = rdbCapture.minKeys;
  rdbCapture.minKeys = Infinity;
  try {
    return (await captureKeyspace(r)).entries.length;
  } finally {
    rdbCapture.minKeys = minKeys;
  }
}

/** The blocking baseline for strings: KEYS *, then MGET 1000 keys at a time, all pipelined; UTF-8 decoded. */
async function keysMgetStrings(r) {
  const keys = await r.keys('*');
  const p = r.pipeline();
  for (const part of chunks(keys, CHUNK)) p.mget(...part);
  const replies = await p.exec();
  let n = 0;
  for (const [, values] of replies) n += values.length;
  return n;
}

/** The same, with Buffers (no decoding at all). */
async function keysMgetBuffers(r) {
  const keys = await r.keysBuffer('*');
  const p = r.pipeline();
  for (const part of chunks(keys, CHUNK)) p.mgetBuffer(...part);
  const replies = await p.exec();
  let n = 0;
  for (const [, values] of replies) n += values.length;
  return n;
}

/**
 * The same KEYS * + MGET, plus a pipelined PTTL of every key: the baseline that reads what a capture must read
 * once the server holds keys with a TTL (a TTL is part of the snapshot; Redis has no bulk TTL read).
 */
async function keysMgetPttl(r) {
  const keys = await r.keysBuffer('*');
  const p = r.pipeline();
  for (const part of chunks(keys, CHUNK)) {
    p.mgetBuffer(...part);
    for (const k of part) p.pttl(k);
  }
  const replies = await p.exec();
  let n = 0;
  for (const [, value] of replies) if (Array.isArray(value)) n += value.length;
  return n;
}

const READ = {
  string: (p, k) => p.getBuffer(k),
  hash: (p, k) => p.hgetallBuffer(k),
  list: (p, k) => p.lrangeBuffer(k, 0, -1),
  set: (p, k) => p.smembersBuffer(k),
  zset: (p, k) => p.zrangeBuffer(k, 0, -1, 'WITHSCORES'),
  stream: (p, k) => p.xrangeBuffer(k, '-', '+'),
};

/** The blocking baseline for every type: KEYS *, then per 1000 keys one pipeline of TYPE and one of reads. */
async function keysTypeRead(r) {
  const keys = await r.keysBuffer('*');
  let n = 0;
  for (const part of chunks(keys, CHUNK)) {
    const tp = r.pipeline();
    for (const k of part) tp.type(k);
    const types = await tp.exec();
    const rp = r.pipeline();
    part.forEach((k, i) => READ[types[i][1]](rp, k));
    n += (await rp.exec()).length;
  }
  return n;
}

/** CPU time the redis-server process has used so far, in ms (INFO cpu). */
async function serverCpu(r) {
  const info = await r.info('cpu');
  const user = Number(/used_cpu_user:([\d.]+)/.exec(info)[1]);
  const sys = Number(/used_cpu_sys:([\d.]+)/.exec(info)[1]);
  return (user + sys) * 1000;
}

/**
 * Where the server's time goes in one run of `fn`: INFO commandstats (the server's time per command, reset
 * before), as `command ms (calls)`, largest first. A script's time includes the commands it ran, which are also
 * listed on their own (commandstats cannot tell a command sent by the client from one run by a script). These
 * are wall-clock times inside the server: on a loaded machine they grow when the server waits for a CPU.
 */
async function serverBreakdown(r, fn) {
  await r.config('RESETSTAT');
  await fn(r);
  const stats = await r.info('commandstats');
  await r.config('RESETSTAT');
  const ms = [];
  for (const m of stats.matchAll(/^cmdstat_([\w|]+):calls=(\d+),usec=(\d+)/gm)) {
    if (!/^(config|info)/.test(m[1])) ms.push([m[1], Number(m[2]), Number(m[3]) / 1000]);
  }
  return ms.sort((a, b) => b[2] - a[2]).map(([name, calls, t]) => `${name} ${fmt(t)} ms (${calls})`).join(', ');
}

/** Wall time, this process's CPU time and the server's CPU time of one run (CPU times do not depend on load). */
async function measure(r, fn) {
  const server0 = await serverCpu(r);
  const cpu0 = process.cpuUsage();
  const wall = await timeIt(fn);
  const cpu = process.cpuUsage(cpu0);
  const server = (await serverCpu(r)) - server0;
  return { wall, client: (cpu.user + cpu.system) / 1000, server };
}

async function compare(label, r, expected, baselines) {
  const runs = new Map([['captureKeyspace', []], ...baselines.map((b) => [b.name, []])]);
  const sides = [
    async () => {
      const snap = await captureKeyspace(r);
      if (snap.entries.length !== expected) throw new Error(`capture read ${snap.entries.length} keys, expected ${expected}`);
    },
    ...baselines.map((b) => async () => {
      const n = await b(r);
      if (n !== expected) throw new Error(`${b.name} read ${n} keys, expected ${expected}`);
    }),
  ];
  const names = [...runs.keys()];
  for (let run = 0; run < RUNS; run++) {
    for (let j = 0; j < sides.length; j++) {
      const k = (j + run) % sides.length; // each side takes its turn going first
      runs.get(names[k]).push(await measure(r, sides[k]));
    }
  }
  const stat = (name, field) => median(runs.get(name).map((m) => m[field]));
  const capture = stat('captureKeyspace', 'wall');
  console.log(`\n${label}: ${expected} keys, median of ${RUNS} runs`);
  console.log(`  ${''.padEnd(18)} ${'wall'.padStart(9)} ${'keys/s'.padStart(8)}   ${'client CPU'.padStart(10)} ${'server CPU'.padStart(10)}`);
  const ratios = {};
  for (const name of names) {
    const t = stat(name, 'wall');
    const ratio = name === 'captureKeyspace' ? '' : `   capture / this = ${fmt(capture / t, 2)}x`;
    if (name !== 'captureKeyspace') ratios[name] = capture / t;
    console.log(
      `  ${name.padEnd(18)} ${fmt(t).padStart(6)} ms ${fmt(expected / (t / 1000), 0).padStart(8)}   ` +
        `${fmt(stat(name, 'client')).padStart(7)} ms ${fmt(stat(name, 'server')).padStart(7)} ms${ratio}`,
    );
  }
  console.log('  server time of one run, per command (calls):');
  console.log(`    captureKeyspace: ${await serverBreakdown(r, captureKeyspace)}`);
  console.log(`    ${baselines[0].name}: ${await serverBreakdown(r, baselines[0])}`);
  return ratios;
}

async function main() {
  const binary = await findRedisServerBinary();
  const server = await startRedisServer({ binary: binary.path });
  const r = new Redis(server.port, server.host);
  try {
    const load = require('os').loadavg()[0];
    console.log(`redis-server ${binary.path} on port ${server.port}; node ${process.version}; load average ${fmt(load, 2)} on ${require('os').cpus().length} CPUs`);
    const results = [];
    await loadStrings(r, STRINGS, false);
    results.push(['strings, no TTL', await compare('string keys, no TTL', r, STRINGS, [keysMgetStrings, keysMgetBuffers, captureNoRdb])]);
    await r.flushall();
    await loadStrings(r, STRINGS, true);
    results.push(['strings, 10% TTL', await compare('string keys, every 10th with a TTL', r, STRINGS, [keysMgetStrings, keysMgetBuffers, keysMgetPttl, captureNoRdb])]);
    await r.flushall();
    await loadMixed(r, MIXED);
    await compare('mixed keys (string, hash, list, set, zset, stream; every 10th with a TTL)', r, MIXED, [keysTypeRead, captureNoRdb]);
    console.log('\nstring target: captureKeyspace ≤ 1.20x KEYS * + MGET');
    for (const [label, ratios] of results) {
      for (const [name, ratio] of Object.entries(ratios)) {
        if (name === 'captureNoRdb') {
          console.log(`  ${label.padEnd(17)} vs ${name.padEnd(16)} ${fmt(ratio, 2)}x  (the same capture without the RDB snapshot)`);
          continue;
        }
        const same = label.includes('TTL') && !label.includes('no TTL') && name !== 'keysMgetPttl' ? ' (baseline reads no TTLs)' : '';
        console.log(`  ${label.padEnd(17)} vs ${name.padEnd(16)} ${fmt(ratio, 2)}x  ${ratio <= 1.2 ? 'met' : 'NOT met'}${same}`);
      }
    }
  } finally {
    await r.quit();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
