import Redis from 'ioredis';
import { createClient } from 'redis';
import {
  everyInterleaving,
  activeKeyWriters,
  bindToActors,
  defineCache,
  GateNeverReachedError,
  GateNotReleasedError,
  InjectedFaultError,
  race,
  redisUrl,
  testDb,
  testRedis,
} from '../../src';
import { UserCache } from '../../examples/services/cacheAside';

const userById = defineCache({
  key: 'user:{id}',
  load: (db, { id }) => db.query('SELECT id, name, email FROM users WHERE id = $1', [Number(id)]),
});

beforeEach(async () => {
  await testDb().query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`);
});

describe('race(): manual gates', () => {
  it('pauses the writer between its database write and its cache delete', async () => {
    const redis = testRedis();
    const db = testDb();
    const r = race();
    const writer = r.actor('writer');
    const reader = r.actor('reader');
    const gate = writer.pauseBefore('redis', 'DEL');
    const w = new UserCache(writer.db, writer.redis).updateUser(1, 'Jerry');
    const step = await gate.reached;
    expect(step).toMatchObject({ actor: 'writer', kind: 'redis', command: 'DEL', keys: ['user:1'] });
    // The database is written, the delete not yet sent: a reader now fills the new row.
    expect(await db.query('SELECT name FROM users WHERE id = 1')).toEqual([{ name: 'Jerry' }]);
    expect(await new UserCache(reader.db, reader.redis).getUser(1)).toEqual({ id: 1, name: 'Jerry', email: null });
    expect(await redis.get('user:1')).not.toBeNull();
    gate.release();
    await w;
    expect(await redis.get('user:1')).toBeNull();
    await expect(redis).toBeConsistentWith(db, [userById]);
    expect(r.steps.map((s) => `${s.actor} ${s.command}`)).toEqual(['writer UPDATE', 'reader GET', 'reader SELECT', 'reader SET', 'writer DEL']);
    await r.close();
  });

  it('reproduces docs/races.md #1 by hand: the reader parked before its fill', async () => {
    const redis = testRedis();
    const db = testDb();
    const r = race();
    const reader = r.actor('reader');
    const writer = r.actor('writer');
    const gate = reader.pauseBefore('redis', 'SET', 'user:*');
    const read = new UserCache(reader.db, reader.redis).getUser(1);
    await gate.reached;
    await new UserCache(writer.db, writer.redis).updateUser(1, 'Jerry');
    gate.release();
    expect(await read).toEqual({ id: 1, name: 'Tom', email: null });
    await expect(expect(redis).toBeConsistentWith(db, [userById])).rejects.toThrow(/stale/);
    expect(r.timeline()).toMatchSnapshot();
    // The registry the consistency report consults: who wrote the stale key.
    expect(activeKeyWriters()?.lastWriter('user:1')).toMatchObject({ actor: 'reader', command: 'SET', step: 5 });
    await r.close();
    expect(activeKeyWriters()).toBeUndefined();
  });

  it('pauseAfter: the step ran on the server, its caller has not seen the reply yet', async () => {
    const redis = testRedis();
    const r = race();
    const reader = r.actor('reader');
    const gate = reader.pauseAfter({ redis: 'SET' });
    let done = false;
    const read = new UserCache(reader.db, reader.redis).getUser(1).then((u) => ((done = true), u));
    await gate.reached;
    expect(await redis.get('user:1')).toBe('{"id":1,"name":"Tom","email":null}');
    expect(done).toBe(false);
    gate.release();
    await read;
    expect(done).toBe(true);
    await r.close();
  });

  it('a gate released before it is reached lets the actor through', async () => {
    const r = race();
    const writer = r.actor('writer');
    const gate = writer.pauseBefore('db', 'UPDATE');
    gate.release();
    await new UserCache(writer.db, writer.redis).updateUser(1, 'Jerry');
    expect(gate.isReached).toBe(true);
    await expect(gate.reached).resolves.toMatchObject({ command: 'UPDATE' });
    await r.close();
  });

  it('a gate never reached fails clearly when the actor finishes (actor.run)', async () => {
    const r = race();
    const writer = r.actor('writer');
    const gate = writer.pauseBefore('redis', 'SET');
    const w = writer.run(() => new UserCache(writer.db, writer.redis).updateUser(1, 'Jerry'));
    await expect(gate.reached).rejects.toThrow(GateNeverReachedError);
    await w;
    const e = (await gate.reached.catch((err: unknown) => err)) as GateNeverReachedError;
    expect(e.code).toBe('GATE_NEVER_REACHED');
    expect(e.message).toMatchSnapshot();
    // Seen by the test already: close() does not report it again.
    await expect(r.close()).resolves.toBeUndefined();
  });

  it('close() fails the test for a gate never reached that nobody awaited', async () => {
    const r = race();
    const writer = r.actor('writer');
    writer.pauseBefore('redis', 'SET', 'user:*');
    await writer.run(() => new UserCache(writer.db, writer.redis).updateUser(1, 'Jerry'));
    await expect(r.close()).rejects.toThrow('The gate before redis SET key user:* of actor "writer" was never reached: the actor finished.');
    const other = race();
    other.actor('reader').pauseBefore('db');
    await expect(other.close()).rejects.toThrow(/was never reached: the test ended first/);
  });

  it('a gate never reached fails clearly when the actor goes idle (called directly)', async () => {
    const r = race();
    const writer = r.actor('writer');
    const gate = writer.pauseBefore('redis', 'SET');
    const w = new UserCache(writer.db, writer.redis).updateUser(1, 'Jerry');
    await expect(gate.reached).rejects.toThrow(/went idle: its last step completed and it issued no further step/);
    await w;
    await r.close().catch(() => {});
  });

  it('awaiting a second gate while the first is parked and unreleased fails instead of hanging', async () => {
    const r = race();
    const writer = r.actor('writer');
    const first = writer.pauseBefore('db', 'UPDATE');
    const second = writer.pauseBefore('redis', 'DEL');
    const w = new UserCache(writer.db, writer.redis).updateUser(1, 'Jerry');
    await first.reached;
    await expect(second.reached).rejects.toThrow(/parked at the gate before db UPDATE, which was not released/);
    first.release();
    await w;
    await r.close().catch(() => {});
  });

  it('close() fails the test for a gate reached but never released', async () => {
    const r = race();
    const writer = r.actor('writer');
    const gate = writer.pauseBefore('redis', 'DEL');
    void new UserCache(writer.db, writer.redis).updateUser(1, 'Jerry').catch(() => {});
    await gate.reached;
    await expect(r.close()).rejects.toThrow(GateNotReleasedError);
  });

  it('failAt injects an error into a chosen step', async () => {
    const redis = testRedis();
    await redis.set('user:1', '{"id":1,"name":"Tom","email":null}');
    const r = race();
    const writer = r.actor('writer');
    const fault = writer.failAt({ redis: 'DEL' });
    await expect(new UserCache(writer.db, writer.redis).updateUser(1, 'Jerry')).rejects.toThrow(InjectedFaultError);
    expect(fault.injected).toBe(true);
    expect(await redis.get('user:1')).not.toBeNull();
    expect(r.steps.map((s) => s.label)).toEqual([
      "db UPDATE users SET name = $1 WHERE id = $2 ['Jerry', 1] -> 1 row",
      'redis DEL user:1 -> !InjectedFaultError: [INJECTED_FAULT] Injected fault: redis DEL user:1 failed (the race injected this error on purpose) (injected, never sent)',
    ]);
    const after = writer.failAt({ db: 'UPDATE' }, { when: 'after', error: new Error('connection reset') });
    await expect(new UserCache(writer.db, writer.redis).updateUser(1, 'Spike')).rejects.toThrow('connection reset');
    expect(after.step).toMatchObject({ command: 'UPDATE' });
    // 'after': the statement ran, only the reply was lost.
    expect(await testDb().query('SELECT name FROM users WHERE id = 1')).toEqual([{ name: 'Spike' }]);
    await r.close();
  });

  it('each actor talks over its own connection', async () => {
    const r = race();
    const a = r.actor('a');
    const b = r.actor('b');
    const ids = await Promise.all([a.redis.client('ID'), b.redis.client('ID'), testRedis().client('ID')]);
    expect(new Set(ids).size).toBe(3);
    expect(await a.redis.client('GETNAME')).toBe('race:a');
    await r.close();
  });
});

describe('bindToActors: a service with module-level clients', () => {
  const moduleRedis = new Redis(redisUrl(), { lazyConnect: true });
  afterAll(() => moduleRedis.quit());

  it('routes the module client to the actor it is called from; outside actors it is untouched', async () => {
    bindToActors(moduleRedis);
    bindToActors(testDb());
    const service = { getUser: (id: number) => new UserCache(testDb(), moduleRedis).getUser(id) };
    const r = race();
    const reader = r.actor('reader');
    const gate = reader.pauseBefore('redis', 'SET');
    const read = reader.run(() => service.getUser(1));
    await gate.reached;
    expect(await moduleRedis.get('user:1')).toBeNull(); // outside actors: a plain command, not a step
    gate.release();
    await read;
    expect(r.steps.map((s) => `${s.actor} ${s.command}`)).toEqual(['reader GET', 'reader SELECT', 'reader SET']);
    expect(await moduleRedis.client('GETNAME')).toBeNull();
    await r.close();
  });

  it('node-redis module clients too, under everyInterleaving: each actor its own connection', async () => {
    const moduleClient = createClient({ url: redisUrl() });
    await moduleClient.connect();
    try {
      bindToActors(moduleClient);
      const ownId = await moduleClient.clientId();
      const seen: string[] = [];
      await everyInterleaving({
        strategy: { kind: 'exhaustive', reduction: 'none' }, // both orders, though CLIENT ID and SET commute
        actors: {
          a: async () => moduleClient.clientId(),
          b: async () => moduleClient.set('k', 'b'),
        },
        check: ({ steps, outcomes }) => void seen.push(`${steps.map((st) => `${st.actor}:${st.command}`).join(' ')} ${(outcomes.a as { value: unknown }).value !== ownId}`),
      });
      expect(seen).toEqual(['a:CLIENT b:SET true', 'b:SET a:CLIENT true']);
      expect(await moduleClient.get('k')).toBeNull(); // outside actors: the plain client, after the reset
    } finally {
      await moduleClient.close();
    }
  });
});
