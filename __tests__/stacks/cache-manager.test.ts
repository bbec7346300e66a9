/** Stack: cache-manager 7 + Keyv + @keyv/redis, its node-redis client bound with bindToActors. */
import { bindToActors, defineCache, everyInterleaving, keyvCodec, redisUrl, testDb } from '../../src';
import { createUserCache, LeaseUserService, UserService } from '../../examples/stacks/cache-manager';
import { caught, order } from '../../examples/__tests__/helpers';

/** user:1 through cache-manager: Keyv's envelope under keyv::keyv:user:1, holding the row (or null). */
const userById = defineCache({
  key: 'user:{id}',
  codec: keyvCodec(),
  load: (db, { id }) => db.query('SELECT id, name, email FROM users WHERE id = $1', [Number(id)]),
  notFound: 'null',
});

// #region docs
let users: ReturnType<typeof createUserCache>;
beforeAll(async () => {
  users = createUserCache(redisUrl());
  bindToActors(users.store.client);
  await users.store.getClient(); // connected before the race: its handshake is not an actor's step
});
afterAll(async () => {
  await users.cache.disconnect();
});
// #endregion docs

const scenario = (service: (db: never) => { getUser(id: number): Promise<unknown>; updateUser(id: number, name: string): Promise<void> }) => ({
  setup: () => testDb().query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
  actors: {
    reader: ({ db }: { db: unknown }) => service(db as never).getUser(1),
    writer: ({ db }: { db: unknown }) => service(db as never).updateUser(1, 'Jerry'),
  },
  check: async ({ redis, db }: { redis: unknown; db: unknown }) => {
    await expect(redis).toBeConsistentWith(db as never, [userById]);
  },
});

describe('cache-manager 7 + keyv + @keyv/redis', () => {
  it("the classic race is caught: wrap()'s GET and SET and del()'s UNLINK are the actors' steps", async () => {
    const e = await caught(everyInterleaving(scenario((db) => new UserService(db, users))));
    expect(e.code).toBe('RACE_FAILED');
    expect(order(e)).toEqual(['reader:GET', 'reader:SELECT', 'writer:UPDATE', 'writer:UNLINK', 'reader:SET']);
    expect(e.steps[0]).toBe('reader  redis GET keyv::keyv:user:1 -> null');
    expect(e.steps[3]).toMatch(/^writer {2}redis UNLINK keyv::keyv:user:1 -> 0$/);
    expect(e.steps[4]).toMatch(/^reader {2}redis SET keyv::keyv:user:1 \{"value":\{"id":1,"name":"Tom","email":null\},"\.\.\. PX 3600000 -> OK$/); // the label shortens the envelope
    expect(e.message).toContain('stale: the cached value differs from a fresh read-through');
  });

  it('the lease + compare-and-set fill (in Keyv\'s format) passes every interleaving', async () => {
    await expect(everyInterleaving(scenario((db) => new LeaseUserService(db, users, () => 'reader')))).resolves.toMatchObject({ complete: true });
    // A second reader meets the first one's lease: cache-manager's get() sees a miss, it reads the database, does not fill.
    const two = scenario((db) => new LeaseUserService(db, users, () => 'reader'));
    const summary = await everyInterleaving({
      ...two,
      actors: { ...two.actors, reader2: ({ db }: { db: unknown }) => new LeaseUserService(db as never, users, () => 'reader2').getUser(1) },
      check: async (args: { redis: unknown; db: unknown; outcomes: Record<string, { ok: boolean }> }) => {
        expect(Object.values(args.outcomes).every((o) => o.ok)).toBe(true);
        await two.check(args);
      },
    });
    expect(summary).toMatchObject({ complete: true });
  }, 60_000); // three actors: 210 orders without the reduction (JEST_CACHE_CONSISTENCY_REDUCTION=verify runs them all)
});
