/**
 * `redis.url`: the preset on a server it did not start. That server holds unrelated data, which must
 * survive every run, successful or refused.
 */
import { useOwnRedisServer } from '../helpers/ownRedisServer';
import { REPO, spawnJest } from '../helpers/processes';
import { claimExternalRedis, releaseExternalRedis } from '../../src/server/externalRedis';
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join } from 'node:path';

jest.setTimeout(60_000);
const FIXTURE = join(REPO, '__tests__', 'fixtures', 'external');

const own = useOwnRedisServer();

/** Someone else's data: db 0 and db 1 hold keys; db 2.. are free. */
beforeEach(async () => {
  await own.admin.flushall();
  await own.admin.set('production:user:1', 'keep me');
  await own.admin.set('jcc:something', 'not ours either');
  await own.admin.select(1);
  await own.admin.set('other-app:session', 'keep me too');
  await own.admin.select(0);
});

async function allData(): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (let db = 0; db < 16; db++) {
    await own.admin.select(db);
    const keys = (await own.admin.keys('*')).sort();
    if (keys.length) out[db] = keys;
  }
  await own.admin.select(0);
  return out;
}
const untouched = { 0: ['jcc:something', 'production:user:1'], 1: ['other-app:session'] };

function run(redis: object) {
  return spawnJest(FIXTURE, ['--no-cache', '--maxWorkers=2'], { EXTERNAL_OPTIONS: JSON.stringify(redis) }).done;
}

it("refuses isolation 'database' without allowFlush, deleting nothing", async () => {
  const r = await run({ url: `${own.server.url}/2` });
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain('never flushes a server it did not start unless told so');
  expect(r.stderr).toContain('Set redis.allowFlush: true to allow FLUSHDB of exactly db 2..3');
  expect(await allData()).toEqual(untouched);
});

it('refuses database indexes that already hold data, even with allowFlush, deleting nothing', async () => {
  const r = await run({ url: own.server.url, allowFlush: true }); // no index in the URL: db 1 and 2
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain('db 1 holds 1 key that this run did not write. Nothing was deleted.');
  expect(await allData()).toEqual(untouched);
});

it('with allowFlush, flushes only its own free indexes: tests are isolated, the rest survives', async () => {
  const r = await run({ url: `${own.server.url}/2`, allowFlush: true });
  expect(r.stderr).toContain('Tests:       4 passed, 4 total');
  expect(r.code).toBe(0);
  expect(await allData()).toEqual(untouched); // db 2 and 3 were emptied at teardown
});

it("with isolation 'prefix', deletes only keys under its own prefix, in the same database as other data", async () => {
  const r = await run({ url: own.server.url, isolation: 'prefix' });
  expect(r.stderr).toContain('Tests:       4 passed, 4 total');
  expect(r.code).toBe(0);
  expect(await allData()).toEqual(untouched);
});

it('works with a password and a database index in the URL, and never prints the password', async () => {
  await own.admin.config('SET', 'requirepass', 'sekret');
  await own.admin.auth('sekret');
  try {
    const ok = await run({ url: `redis://:sekret@127.0.0.1:${own.server.port}/5`, isolation: 'prefix' });
    expect(ok.stderr).toContain('Tests:       4 passed, 4 total'); // includes "the next test starts empty", in db 5
    expect(ok.code).toBe(0);
    expect(await allData()).toEqual(untouched);
    const refused = await run({ url: 'redis://:sekret@127.0.0.1:1/2', isolation: 'prefix' }); // nobody listens on port 1
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('redis.url redis://:***@127.0.0.1:1/2 does not answer PING');
    expect(refused.stderr).not.toContain('sekret');
  } finally {
    await own.admin.config('SET', 'requirepass', '');
  }
});

it('a second run cannot claim database indexes a live run holds; it can once that run has ended', async () => {
  const options = { url: `${own.server.url}/4`, isolation: 'database' as const, allowFlush: true };
  const first = await claimExternalRedis(options, 2, 111); // db 4..5
  const overlapping = await claimExternalRedis({ ...options, url: `${own.server.url}/5` }, 1, 222).catch((e) => e);
  expect(overlapping.code).toBe('EXTERNAL_REDIS_CLAIMED');
  expect(overlapping.message).toContain('db 4..5 (Jest run 111) is in use by another Jest run right now. Nothing was deleted.');
  const elsewhere = await claimExternalRedis({ ...options, url: `${own.server.url}/6` }, 1, 333); // db 6: free
  await releaseExternalRedis(options.url, first);
  await releaseExternalRedis(`${own.server.url}/6`, elsewhere);
  const again = await claimExternalRedis({ ...options, url: `${own.server.url}/5` }, 1, 444);
  expect(again.databases).toEqual([5]);
  await releaseExternalRedis(`${own.server.url}/5`, again);
  expect(await allData()).toEqual(untouched);
});

/** A process claiming like a Jest run's globalSetup (fixtures/external-claim), driven line by line. */
function startClaimer(url: string, workers: number): { child: ChildProcess; send(line: string): Promise<string> } {
  const child = spawn(process.execPath, [join(REPO, '__tests__', 'fixtures', 'external-claim', 'claimer.js'), url, String(workers)], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  const next = async () => {
    const { value, done } = await lines.next();
    if (done) throw new Error('claimer exited');
    return value as string;
  };
  const ready = next();
  return {
    child,
    send: async (line) => {
      expect(await ready).toBe('ready');
      child.stdin!.write(`${line}\n`);
      return next();
    },
  };
}

it('four runs claiming the same indexes at the same moment: exactly one gets them, every round (20 rounds)', async () => {
  const url = `${own.server.url}/2`;
  const claimers = Array.from({ length: 4 }, () => startClaimer(url, 2)); // each wants db 2..3
  try {
    const rounds: string[][] = [];
    for (let round = 0; round < 20; round++) {
      const replies = await Promise.all(claimers.map((c) => c.send('claim')));
      rounds.push(replies.sort());
      await Promise.all(claimers.map((c) => c.send('release')));
    }
    const doubleClaims = rounds.filter((r) => r.filter((reply) => reply.startsWith('claimed')).length > 1);
    expect(doubleClaims).toEqual([]);
    for (const replies of rounds)
      expect(replies).toEqual(['claimed 2,3', 'refused EXTERNAL_REDIS_CLAIMED', 'refused EXTERNAL_REDIS_CLAIMED', 'refused EXTERNAL_REDIS_CLAIMED']);
  } finally {
    for (const c of claimers) c.child.kill('SIGKILL');
  }
  expect(await allData()).toEqual(untouched);
});

it('the claim of a killed run ends with it: the next run gets the indexes', async () => {
  const url = `${own.server.url}/2`;
  const killed = startClaimer(url, 1);
  expect(await killed.send('claim')).toBe('claimed 2');
  const refused = await claimExternalRedis({ url, isolation: 'database', allowFlush: true }, 1, 222).catch((e) => e);
  expect(refused.code).toBe('EXTERNAL_REDIS_CLAIMED');
  const exited = new Promise((res) => killed.child.once('exit', res));
  killed.child.kill('SIGKILL');
  await exited;
  const next = await claimExternalRedis({ url, isolation: 'database', allowFlush: true }, 1, 333);
  expect(next.databases).toEqual([2]);
  await releaseExternalRedis(url, next);
});

it('reports an unreachable server', async () => {
  const r = await run({ url: 'redis://127.0.0.1:1' });
  expect(r.code).not.toBe(0);
  expect(r.stderr).toContain('redis.url redis://127.0.0.1:1 does not answer PING');
});

describe('the race helpers on an external server', () => {
  const RACE_FIXTURE = join(REPO, '__tests__', 'fixtures', 'external-race');
  const runRace = (redis: object) =>
    spawnJest(RACE_FIXTURE, ['--no-cache'], { EXTERNAL_OPTIONS: JSON.stringify(redis) }).done;

  it.each([
    ['database', { url: `redis://127.0.0.1:PORT/2`, allowFlush: true }],
    ['prefix', { url: 'redis://127.0.0.1:PORT', isolation: 'prefix' }],
  ])("with isolation '%s', reset between schedules without touching anything else", async (_mode, options) => {
    const opts = { ...options, url: (options as { url: string }).url.replace('PORT', String(own.server.port)) };
    const r = await runRace(opts);
    expect(r.stderr).toContain('Tests:       1 passed, 1 total');
    expect(r.code).toBe(0);
    expect(await allData()).toEqual(untouched);
  });
});
