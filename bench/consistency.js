#!/usr/bin/env node
/*
 * bench/consistency: toBeConsistentWith's comparison on 10k cached keys against the embedded pg-mem
 * database, with its own redis-server. Prints keys/second, the share of the time spent reading Redis,
 * reading the database and comparing, and the ratio against a naive baseline measured in the same run:
 * for every key a GET, then a SELECT ... WHERE id = $1, then a JSON comparison (what a hand-written check
 * does).
 *
 *   npm run build && node bench/consistency.js [--keys 10000] [--runs 5] [--baseline-runs 1]
 *
 * Scenarios, each on --keys keys (all consistent, so every key is fully read and compared):
 *   1. the default convention: `users:<id>` holds the row as JSON (one line: toBeConsistentWith(db));
 *   2. a table contract: `user-hash:{id}`, as: 'hash', fields projection;
 *   3. a custom load function (one SELECT per key, as docs/contracts.md's first example is written);
 *   B. the naive baseline over the keys of scenario 1.
 * Also: one primary-key SELECT per key through pg-mem's own node-postgres adapter vs the library's adapter
 * (testDb().pool, pg-mem handles), which parses each SQL text once.
 * Target: scenario 1 "well under a second" for 10k keys.
 */
const Redis = require('ioredis');
const { median, ms, requireBuilt, fmt, REPO } = require('./lib');

const args = process.argv.slice(2);
const arg = (name, fallback) => (args.includes(`--${name}`) ? Number(args[args.indexOf(`--${name}`) + 1]) : fallback);
const KEYS = arg('keys', 10_000);
const RUNS = arg('runs', 5);
const BASELINE_RUNS = Math.max(1, arg('baseline-runs', 1));

const { defineCache, captureKeyspace, findRedisServerBinary } = requireBuilt();
const { startRedisServer } = require(`${REPO}/dist/server/redisServer`);
const { checkEntries, checkAdapters, resolveOptions } = require(`${REPO}/dist/consistency/check`);
const { toQueryable } = require(`${REPO}/dist/db/toQueryable`);
const { toRedisAdapter } = require(`${REPO}/dist/redis/toRedisAdapter`);
const { newDb } = require('pg-mem');

function makeDb() {
  const mem = newDb();
  mem.public.none(require('fs').readFileSync(`${REPO}/__tests__/fixtures/schema.sql`, 'utf8'));
  for (let start = 1; start <= KEYS; start += 1000) {
    const rows = [];
    for (let id = start; id < Math.min(start + 1000, KEYS + 1); id++) rows.push(`(${id}, 'user ${id}', 'u${id}@example.com', ${id % 3 !== 0}, ${id % 7})`);
    mem.public.none(`INSERT INTO users (id, name, email, active, version) VALUES ${rows.join(', ')}`);
  }
  return mem;
}

async function fillCache(redis, mem) {
  const rows = mem.public.many('SELECT * FROM users ORDER BY id');
  for (let i = 0; i < rows.length; i += 1000) {
    const p = redis.pipeline();
    for (const row of rows.slice(i, i + 1000)) {
      p.set(`users:${row.id}`, JSON.stringify(row));
      p.hset(`user-hash:${row.id}`, { id: String(row.id), name: row.name, email: row.email });
      p.set(`user-load:${row.id}`, JSON.stringify({ id: row.id, name: row.name }));
    }
    await p.exec();
  }
}

/** One check, split: Redis capture, then the comparison with database reads timed apart. */
async function measure(redis, handle, options) {
  const resolved = resolveOptions(options, undefined);
  // Database time = the time at least one statement was in flight (custom loads run several at once).
  let dbMs = 0;
  let inFlight = 0;
  let busySince;
  const inner = handle.query.bind(handle);
  const timed = {
    ...handle,
    query: async (sql, params) => {
      if (inFlight++ === 0) busySince = process.hrtime.bigint();
      try {
        return await inner(sql, params);
      } finally {
        if (--inFlight === 0) dbMs += ms(busySince);
      }
    },
  };
  const t0 = process.hrtime.bigint();
  const snap = await captureKeyspace(redis, { match: resolved.match });
  const redisMs = ms(t0);
  const t1 = process.hrtime.bigint();
  const report = await checkEntries(snap.entries, timed, resolved);
  const compareTotal = ms(t1);
  if (report.inconsistencies.length || report.checked !== KEYS) throw new Error(`unexpected report: ${report.checked} checked, ${report.inconsistencies.length} inconsistent`);
  return { total: redisMs + compareTotal, redisMs, dbMs, cpuMs: compareTotal - dbMs };
}

/** The whole matcher path, unsplit (checkAdapters: ready, capture, compare), for an end-to-end figure. */
async function endToEnd(redis, handle, options) {
  const t = process.hrtime.bigint();
  const report = await checkAdapters(toRedisAdapter(redis), handle, resolveOptions(options, undefined));
  if (report.inconsistencies.length) throw new Error('unexpected inconsistencies');
  return ms(t);
}

/** The naive check: GET, SELECT, compare, key by key. */
async function baseline(redis, pool) {
  let redisMs = 0;
  let dbMs = 0;
  const t = process.hrtime.bigint();
  let bad = 0;
  for (let id = 1; id <= KEYS; id++) {
    let s = process.hrtime.bigint();
    const cached = await redis.get(`users:${id}`);
    redisMs += ms(s);
    s = process.hrtime.bigint();
    const { rows } = await pool.query('SELECT * FROM users WHERE id = $1', [id]);
    dbMs += ms(s);
    if (JSON.stringify(JSON.parse(cached)) !== JSON.stringify(JSON.parse(JSON.stringify(rows[0])))) bad++;
  }
  if (bad) throw new Error(`baseline found ${bad} inconsistent keys`);
  const total = ms(t);
  return { total, redisMs, dbMs, cpuMs: total - redisMs - dbMs };
}

function line(label, r) {
  const share = (x) => `${fmt((100 * x) / r.total, 0)}%`;
  return `${label.padEnd(44)} ${fmt(r.total, 1).padStart(8)} ms  ${fmt(KEYS / (r.total / 1000), 0).padStart(8)} keys/s   redis ${share(r.redisMs).padStart(4)}  db ${share(r.dbMs).padStart(4)}  compare ${share(r.cpuMs).padStart(4)}`;
}

/** The run with the median total (its parts then add up to it). */
function med(results) {
  const sorted = [...results].sort((a, b) => a.total - b.total);
  return sorted[Math.floor((sorted.length - 1) / 2)];
}

async function main() {
  const { path: binary } = await findRedisServerBinary();
  const server = await startRedisServer({ binary });
  const redis = new Redis(server.url);
  try {
    const mem = makeDb();
    const handle = toQueryable(mem);
    const { Pool } = mem.adapters.createPg();
    const pool = new Pool();
    await fillCache(redis, mem);

    const hash = defineCache({ key: 'user-hash:{id}', table: 'users', as: 'hash', fields: ['id', 'name', 'email'] });
    const load = defineCache({ key: 'user-load:{id}', load: (q, { id }) => q.query('SELECT id, name FROM users WHERE id = $1', [id]) });
    const scenarios = [
      ['1. default convention (users:<id>, JSON)', { match: 'users:*' }],
      ['2. table contract (user-hash:{id}, hash)', { contracts: [hash], match: 'user-hash:*' }],
      ['3. custom load, one SELECT per key', { contracts: [load], match: 'user-load:*' }],
    ];
    console.log(`bench/consistency: ${KEYS} cached keys per scenario, pg-mem, redis-server ${server.url} (median of ${RUNS}; baseline median of ${BASELINE_RUNS})\n`);
    const results = [];
    for (const [label, options] of scenarios) {
      // Scenario 3 takes seconds (a pg-mem statement per key): as many runs as the baseline, no warm-up.
      const slow = label.startsWith('3.');
      if (!slow) await measure(redis, handle, options); // warm-up
      const runs = [];
      const runsOf = slow ? BASELINE_RUNS : RUNS;
      for (let i = 0; i < runsOf; i++) runs.push(await measure(redis, handle, options));
      results.push([label, med(runs)]);
      console.log(line(label, med(runs)));
    }
    // The matcher's own path on scenario 1, taking turns with the split measurement (the machine's noise hits both).
    const e2e = [];
    const split = [];
    for (let i = 0; i < RUNS; i++) {
      e2e.push(await endToEnd(redis, handle, { match: 'users:*' }));
      split.push((await measure(redis, handle, { match: 'users:*' })).total);
    }
    console.log(`${'   scenario 1 again, split (taking turns)'.padEnd(44)} ${fmt(median(split), 1).padStart(8)} ms`);
    console.log(`${'   the same through the matcher path, unsplit'.padEnd(44)} ${fmt(median(e2e), 1).padStart(8)} ms  ${fmt(KEYS / (median(e2e) / 1000), 0).padStart(8)} keys/s`);

    // The statement cost behind scenario 3: the same primary-key SELECT for every key, through pg-mem's own
    // node-postgres adapter and through the library's (parsed once per SQL text), taking turns.
    const { createPgMemAdapter } = require(`${REPO}/dist/db/pgMemPool`);
    const ours = new (createPgMemAdapter(mem).Pool)();
    const selects = async (p) => {
      const t = process.hrtime.bigint();
      for (let id = 1; id <= KEYS; id++) await p.query('SELECT id, name FROM users WHERE id = $1', [id]);
      return ms(t) / KEYS;
    };
    const stockTimes = [];
    const ourTimes = [];
    for (let i = 0; i < BASELINE_RUNS; i++) {
      stockTimes.push(await selects(pool));
      ourTimes.push(await selects(ours));
    }
    const [st, ot] = [median(stockTimes), median(ourTimes)];
    console.log(`${'   per SELECT: pg-mem adapter / the library\'s'.padEnd(44)} ${fmt(st, 3)} ms / ${fmt(ot, 3)} ms = ${fmt(st / ot, 2)}x`);

    const base = [];
    for (let i = 0; i < BASELINE_RUNS; i++) base.push(await baseline(redis, pool));
    const b = med(base);
    console.log(line('B. naive GET + SELECT + compare per key', b));
    console.log('');
    for (const [label, r] of results) console.log(`time ratio baseline / scenario ${label.slice(0, 2)} ${fmt(b.total / r.total, 2)}x`);
    const first = results[0][1].total;
    console.log(`\ntarget: ${KEYS} keys with the default convention well under 1 s: ${fmt(first, 0)} ms ${first < 1000 ? '(met)' : '(NOT met)'}`);
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
