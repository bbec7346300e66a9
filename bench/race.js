#!/usr/bin/env node
// bench/race: the race helpers, measured in one run against baselines from the same run.
//  (a) schedules per second: the seed scenario (docs/races.md #1: reader 3 steps, writer 2 = 10 orders) and one
//      reader plus two writers (3 + 2 + 2 steps = 210 orders)
//  (b) the seed scenario's 10 orders through everyInterleaving vs a minimal hand-written gate enumerator
//      (bench/handEnumerator.js) on the same service, real redis-server and pg-mem        target: <= 1.5x
//  (c) detection vs fast-check's fc.scheduler() over 30 seeds (100 runs each): how many seeds find the race
//      and the median time to detect; everyInterleaving must find it every run, >= 5x sooner than fast-check's
//      best setup
//  (d) the partial-order reduction: schedules and wall time, brute force vs reduced, in the same run, on the seed
//      scenario, on 1 reader + 2 writers (210 orders) and on a three-actor lease scenario with multi-key
//      invalidation (11,550 orders)                targets: >= 30x fewer schedules and < 3 s on the last one
//  (e) the wire guard's cost per step: the seed scenario with and without it, alternating blocks   target: <= 1.2x
//  (a) and (b) run brute force (reduction 'none'): they measure the cost per schedule, which the reduction does
//      not change.
// Usage: npm run build && node bench/race.js [--runs N] [--only a,b,...]   (--only: the parts to run; default all)
'use strict';
const path = require('path');
const { setTimeout: sleep } = require('timers/promises');
const Redis = require('ioredis');
const { median, ms, fmt, requireBuilt, REPO } = require('./lib');
const { UserCache, LeaseUserCache, consistent } = require('./raceService');
const { orders, runOrder } = require('./handEnumerator');

const runs = Number(process.argv[process.argv.indexOf('--runs') + 1]) || 30;
const onlyAt = process.argv.indexOf('--only');
const parts = onlyAt >= 0 ? new Set((process.argv[onlyAt + 1] ?? '').split(',').map((p) => p.trim())) : undefined;
/** Whether part `p` ('a' to 'e') runs. */
const part = (p) => parts === undefined || parts.has(p);
const { startRedisServer, findRedisServerBinary, everyInterleaving, RaceFailureError } = requireBuilt();
const { createEmbeddedDb } = require(path.join(REPO, 'dist', 'db', 'embedded'));
let fc;
try {
  fc = require('fast-check');
} catch {
  fc = undefined;
}

const now = () => process.hrtime.bigint();

async function main() {
  const { path: binary } = await findRedisServerBinary();
  const server = await startRedisServer({ binary });
  const redis = new Redis(server.url);
  const db = createEmbeddedDb([path.join(REPO, '__tests__', 'fixtures', 'schema.sql')]);
  await db.ready;
  const start = db.mem.backup();
  const setup = () => db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`);
  const base = { redis, db, allowFlush: true, setup: ({ db: d }) => d.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`) };
  const reader = ({ redis: r, db: d }) => new UserCache(d, r).getUser(1);
  const writer = (name) => ({ redis: r, db: d }) => new UserCache(d, r).updateUser(1, name);
  const own = { reader: redis.duplicate(), writer: redis.duplicate() };
  try {
    // the seed scenario, with a check that counts inconsistent schedules instead of failing
    let inconsistent = 0;
    const countingCheck = async ({ redis: r, db: d }) => {
      if (!(await consistent(r, d))) inconsistent++;
    };
    const brute = { kind: 'exhaustive', reduction: 'none' };
    const seedScenario = { ...base, actors: { reader, writer: writer('Jerry') }, check: countingCheck, strategy: brute };
    // ---------------------------------------------------------------- (b) vs a hand-written gate enumerator
    const clients = { reader: { redis: own.reader, db }, writer: { redis: own.writer, db } };
    const hand = async () => {
      let bad = 0;
      for (const order of orders({ reader: 3, writer: 2 })) {
        const ok = await runOrder(order, {
          reset: async () => {
            await redis.flushall();
            start.restore();
          },
          setup,
          clients,
          actors: { reader: (d, r) => new UserCache(d, r).getUser(1), writer: (d, r) => new UserCache(d, r).updateUser(1, 'Jerry') },
          check: () => consistent(redis, db),
        });
        if (!ok) bad++;
      }
      return bad;
    };
    const ours = async () => {
      inconsistent = 0;
      await everyInterleaving(seedScenario);
      return inconsistent;
    };
    // everyInterleaving starts every schedule from the state before the call: give it the empty one.
    const fresh = async () => {
      await redis.flushall();
      start.restore();
    };
    let t;
    if (part('b')) {
      t = now();
      const handCold = await hand();
      const handColdMs = ms(t);
      const handTimes = [];
      const ourTimes = [];
      for (let i = 0; i < runs; i++) {
        t = now();
        await hand();
        handTimes.push(ms(t));
        await fresh();
        t = now();
        await ours();
        ourTimes.push(ms(t));
    }
    const handMed = median(handTimes);
    const ourMed = median(ourTimes);
    console.log('(b) the seed scenario\'s 10 orders: everyInterleaving vs a hand-written gate enumerator (bench/handEnumerator.js)');
    console.log(`    hand enumerator: cold ${fmt(handColdMs)} ms, median ${fmt(handMed, 2)} ms per 10 orders (${fmt(handMed / 10, 2)} ms/order), ${handCold} of 10 inconsistent`);
    await fresh();
    console.log(`    everyInterleaving: median ${fmt(ourMed, 2)} ms per 10 orders (${fmt(ourMed / 10, 2)} ms/order), ${await ours()} of 10 inconsistent`);
    console.log(`    ratio: ${fmt(ourMed / handMed, 2)}x (target <= 1.5x)`);
    }

    // ---------------------------------------------------------------- (a) schedules per second
    // Against its floor: the seed scenario's steps as bare round trips, plus the reset, setup and check, with no
    // scheduler. Both are warmed up alike (V8 and pg-mem get faster over the first thousands of schedules), then
    // timed in alternating blocks; the medians are compared.
    const floorOnce = async () => {
      await redis.flushall();
      start.restore();
      await setup();
      await redis.get('user:1');
      await db.query('SELECT id, name, email FROM users WHERE id = $1', [1]);
      await db.query('UPDATE users SET name = $1 WHERE id = $2', ['Jerry', 1]);
      await redis.del('user:1');
      await redis.set('user:1', '{}');
      await consistent(redis, db);
    };
    const oursBlock = async () => {
      let n = 0;
      const t0 = now();
      for (let i = 0; i < runs; i++) {
        await fresh();
        n += (await everyInterleaving(seedScenario)).schedules;
      }
      return n / (ms(t0) / 1000);
    };
    const floorBlock = async () => {
      const t0 = now();
      for (let i = 0; i < runs * 10; i++) await floorOnce();
      return (runs * 10) / (ms(t0) / 1000);
    };
    if (part('a')) {
      for (let i = 0; i < 5; i++) {
        await oursBlock(); // warm-up
        await floorBlock();
    }
    const oursRates = [];
    const floorRates = [];
    for (let i = 0; i < 5; i++) {
      oursRates.push(await oursBlock());
      floorRates.push(await floorBlock());
    }
    const seedRate = median(oursRates);
    const floorRate = median(floorRates);
    await fresh();
    inconsistent = 0;
    const three = { ...base, actors: { reader, writer1: writer('Jerry'), writer2: writer('Spike') }, check: countingCheck, strategy: brute };
    await fresh();
    t = now();
    const s210 = await everyInterleaving(three);
    const rate210 = s210.schedules / (ms(t) / 1000);
    console.log('\n(a) schedules per second (everyInterleaving, real redis-server + pg-mem, check after every schedule)');
    console.log(`    seed scenario (10 orders, brute force), after a warm-up, median of 5 blocks of ${runs * 10} schedules: ${fmt(seedRate, 0)} schedules/s (target >= 600)`);
    console.log(`    its floor (the same 5 steps as bare round trips + reset + setup + check, no scheduler), alternating blocks: ${fmt(floorRate, 0)}/s; ratio ${fmt(floorRate / seedRate, 2)}x`);
    console.log(`    1 reader + 2 writers: ${s210.schedules} orders (${inconsistent} inconsistent) in ${fmt(s210.schedules / rate210 * 1000, 0)} ms: ${fmt(rate210, 0)} schedules/s`);
    }

    if (part('d')) {
      // ---------------------------------------------------------------- (d) the reduction
      console.log('\n(d) partial-order reduction: brute force vs reduced (the default), same scenarios, same run');
      const compare = async (label, scenario) => {
        const out = {};
        for (const [name, strategy] of [['brute force', brute], ['reduced', { kind: 'exhaustive' }]]) {
          inconsistent = 0;
          await fresh();
          const t0 = now();
          const summary = await everyInterleaving({ ...scenario, check: countingCheck, strategy });
          out[name] = { ms: ms(t0), summary, inconsistent };
        }
        const b = out['brute force'];
        const r = out.reduced;
        console.log(`    ${label}`);
        console.log(`      brute force: ${b.summary.schedules} schedules, ${fmt(b.ms, 0)} ms, ${b.inconsistent} inconsistent`);
        console.log(`      reduced:     ${r.summary.schedules} schedules (${r.summary.classes} classes), ${fmt(r.ms, 0)} ms, ${r.inconsistent} inconsistent`);
        console.log(`      ${fmt(b.summary.schedules / r.summary.schedules, 1)}x fewer schedules, ${fmt(b.ms / r.ms, 1)}x less time`);
        return { b, r };
      };
      await compare('seed scenario (reader 3 steps, writer 2)', { ...base, actors: { reader, writer: writer('Jerry') } });
      await compare('1 reader + 2 writers (3 + 2 + 2 steps)', { ...base, actors: { reader, writer1: writer('Jerry'), writer2: writer('Spike') } });
      const leaseBase = {
        ...base,
        setup: async ({ db: d }) => {
          await d.query(`INSERT INTO users (id, name, email) VALUES (1, 'Tom', 'tom@x'), (2, 'Ann', 'ann@x')`);
        },
      };
      const lease = await compare('three actors, lease fill + multi-key invalidation (reader 4 steps, writers 4 + 3)', {
        ...leaseBase,
        actors: {
          reader: ({ redis: r, db: d }) => new LeaseUserCache(d, r, 'reader').getUser(1),
          writer1: ({ redis: r, db: d }) => new LeaseUserCache(d, r, 'w1').updateUser(1, 'Jerry', ['user:email:tom@x']),
          writer2: ({ redis: r, db: d }) => new LeaseUserCache(d, r, 'w2').updateUser(2, 'Spike', []),
        },
      });
      const fewer = lease.b.summary.schedules / lease.r.summary.schedules;
      console.log(`    three-actor targets: >= 30x fewer schedules: ${fmt(fewer, 1)}x ${fewer >= 30 ? 'met' : 'MISSED'}; under 3 s: ${fmt(lease.r.ms / 1000, 2)} s ${lease.r.ms < 3000 ? 'met' : 'MISSED'}`);
    }

    if (part('e')) {
      // ---------------------------------------------------------------- (e) the wire guard's cost per step
      // Every run is guarded (a socket write or pg-mem statement inside an actor that is not a granted step fails
      // it). Against today's wrappers alone: the same seed scenario with the guard switched off for the bench (the
      // session looks installWireGuard/guardEmbeddedDb up on the module at each call), alternating blocks.
      const wire = require(path.join(REPO, 'dist', 'race', 'instrument', 'wireGuard'));
      const guarded = { installWireGuard: wire.installWireGuard, guardEmbeddedDb: wire.guardEmbeddedDb };
      const setGuard = (on) => {
        wire.installWireGuard = on ? guarded.installWireGuard : () => () => {};
        wire.guardEmbeddedDb = on ? guarded.guardEmbeddedDb : () => () => {};
      };
      const stepBlock = async (on) => {
        setGuard(on);
        let steps = 0;
        const t0 = now();
        for (let i = 0; i < runs; i++) {
          await fresh();
          steps += (await everyInterleaving(seedScenario)).schedules * 5;
        }
        return (ms(t0) * 1000) / steps;
      };
      for (let i = 0; i < 3; i++) {
        await stepBlock(true);
        await stepBlock(false);
    }
    const onCosts = [];
    const offCosts = [];
    for (let i = 0; i < 7; i++) {
      // Alternate which side goes first.
      if (i % 2 === 0) {
        onCosts.push(await stepBlock(true));
        offCosts.push(await stepBlock(false));
      } else {
        offCosts.push(await stepBlock(false));
        onCosts.push(await stepBlock(true));
      }
    }
    const guardedUs = median(onCosts);
    const bareUs = median(offCosts);
    setGuard(true);
    console.log('\n(e) cost per step of the wire guard (seed scenario, brute force, 5 steps per schedule, whole schedule included)');
    console.log(`    wrappers only: ${fmt(bareUs, 1)} us/step; wrappers + wire guard: ${fmt(guardedUs, 1)} us/step`);
    console.log(`    ratio: ${fmt(guardedUs / bareUs, 3)}x (target <= 1.2x)`);
    }

    if (part('c')) {
      // ---------------------------------------------------------------- (c) detection vs fast-check
      const seeds = Array.from({ length: 30 }, (_, i) => i + 1);
      const detectScenario = {
        ...base,
        actors: { reader, writer: writer('Jerry') },
        check: async ({ redis: r, db: d }) => {
          if (!(await consistent(r, d))) throw new Error('user:1 is stale');
        },
      };
      const oursFound = [];
      for (const _ of seeds) {
        await fresh();
        t = now();
        const e = await everyInterleaving(detectScenario).catch((err) => err);
        oursFound.push({ found: e instanceof RaceFailureError, ms: ms(t), schedules: e.schedules });
    }
    console.log('\n(c) detection over 30 runs / seeds (time to detect includes, for everyInterleaving, shrinking and the report)');
    const okOurs = oursFound.filter((r) => r.found);
    console.log(`    everyInterleaving (exhaustive): found in ${okOurs.length}/30, after ${okOurs[0]?.schedules} schedules, median ${fmt(median(okOurs.map((r) => r.ms)), 1)} ms`);
    if (!fc) {
      console.log('    fast-check is not installed (npm install -D fast-check): comparison skipped');
      return;
    }
    const readerC = { redis: own.reader, db };
    const writerC = { redis: own.writer, db };
    const fcRun = async (seed, variant) => {
      const settings = variant === 'timer-act' ? { act: async (f) => { await f(); await sleep(1); } } : undefined;
      const prop = fc.asyncProperty(fc.scheduler(settings), async (s) => {
        await redis.flushall();
        start.restore();
        await setup();
        // literal: the docs' scheduleFunction (the call is made at once, its result is delivered when the
        // scheduler says); timer-act: every call first waits for a scheduled go, and act waits 1 ms after each.
        const wrap = (client, methods) =>
          Object.fromEntries(
            methods.map((m) => [
              m,
              variant === 'literal'
                ? s.scheduleFunction(function call(...args) { return client[m](...args); })
                : async (...args) => {
                    await s.schedule(Promise.resolve(), `${m}(${args[0]})`);
                    return client[m](...args);
                  },
            ]),
          );
        const r = new UserCache(wrap(readerC.db, ['query']), wrap(readerC.redis, ['get', 'set', 'del']));
        const w = new UserCache(wrap(writerC.db, ['query']), wrap(writerC.redis, ['get', 'set', 'del']));
        await s.waitFor(Promise.all([r.getUser(1), w.updateUser(1, 'Jerry')]));
        return consistent(redis, db);
      });
      const t0 = now();
      const result = await fc.check(prop, { seed, numRuns: 100, endOnFailure: true });
      return { found: result.failed, runs: result.numRuns, ms: ms(t0) };
    };
    const summary = {};
    for (const variant of ['literal', 'timer-act']) {
      const rs = [];
      for (const seed of seeds) rs.push(await fcRun(seed, variant));
      const found = rs.filter((r) => r.found);
      summary[variant] = found;
      console.log(
        `    fast-check fc.scheduler() ${variant === 'literal' ? '(scheduleFunction, as documented)' : '(gate before each call + 1 ms timer act)'}: ` +
          `found in ${found.length}/30 seeds within 100 runs` +
          (found.length ? `, median ${median(found.map((r) => r.runs))} runs and ${fmt(median(found.map((r) => r.ms)), 1)} ms to detect` : ''),
      );
    }
    const best = ['timer-act', 'literal'].map((v) => summary[v]).find((f) => f.length > 0);
    if (best) console.log(`    time to detect: fast-check's best ${fmt(median(best.map((r) => r.ms)), 1)} ms / everyInterleaving ${fmt(median(okOurs.map((r) => r.ms)), 1)} ms = ${fmt(median(best.map((r) => r.ms)) / median(okOurs.map((r) => r.ms)), 1)}x (target >= 5x)`);
    }
  } finally {
    await Promise.all([own.reader.quit(), own.writer.quit()]);
    await redis.quit();
    await db.pool.end();
    await server.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
