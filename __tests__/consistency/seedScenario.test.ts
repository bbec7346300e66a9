/**
 * docs/races.md #1, "stale set after delete", end to end as a sequential test:
 *   R:GET(miss) → R:SELECT(v1) → W:UPDATE(v2) → W:DEL → R:SET(v1)
 * The reader is held after its SELECT by a database handle that waits on a promise (a hand-made gate;
 * the race helpers do this for any step and explore every order). docs/contracts.md shows this file.
 */
import { randomUUID } from 'node:crypto';
import type Redis from 'ioredis';
import { defineCache, testDb, testRedis, type Queryable } from '../../src';

/** Cache-aside: read Redis, on a miss read the database and fill; on write, update then delete. */
class UserCache {
  constructor(
    private readonly db: Queryable,
    private readonly redis: Redis,
  ) {}

  async getUser(id: number): Promise<unknown> {
    const hit = await this.redis.get(`user:${id}`);
    if (hit !== null) return JSON.parse(hit);
    const [row] = await this.db.query('SELECT id, name, email FROM users WHERE id = $1', [id]);
    if (row) await this.redis.set(`user:${id}`, JSON.stringify(row), 'EX', 60);
    return row ?? null;
  }

  async updateUser(id: number, name: string): Promise<void> {
    await this.db.query('UPDATE users SET name = $1 WHERE id = $2', [name, id]);
    await this.redis.del(`user:${id}`);
  }
}

/** The fix in docs/races.md #1: on a miss take a lease (SET NX PX); fill only if the lease is still there. */
class LeasedUserCache extends UserCache {
  constructor(
    private readonly leasedDb: Queryable,
    private readonly leasedRedis: Redis,
  ) {
    super(leasedDb, leasedRedis);
  }

  override async getUser(id: number): Promise<unknown> {
    const key = `user:${id}`;
    const hit = await this.leasedRedis.get(key);
    if (hit !== null && !hit.startsWith('lease:')) return JSON.parse(hit);
    const token = `lease:${randomUUID()}`;
    const leased = hit === null && (await this.leasedRedis.set(key, token, 'PX', 5000, 'NX')) === 'OK';
    const [row] = await this.leasedDb.query('SELECT id, name, email FROM users WHERE id = $1', [id]);
    if (row && leased) {
      // Compare-and-set: a DEL (the writer's invalidation) killed the lease, and then nothing is written.
      await this.leasedRedis.eval(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2], 'EX', 60) end return 0",
        1,
        key,
        token,
        JSON.stringify(row),
      );
    }
    return row ?? null;
  }
}

/** The contract: user:{id} holds the row as JSON; a lease token holds no data and is skipped. */
const userById = defineCache({
  key: 'user:{id}',
  load: (db, { id }) => db.query('SELECT id, name, email FROM users WHERE id = $1', [id]),
  skip: 'lease:',
});

const redis = testRedis();
const db = testDb();

/** A handle on the same database that holds its caller after each SELECT until `release()`. */
function pauseAfterSelect(inner: Queryable) {
  let release!: () => void;
  let reached!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));
  const paused = new Promise<void>((resolve) => (reached = resolve));
  const handle: Queryable = {
    async query(sql, params) {
      const rows = await inner.query(sql, params);
      if (/^\s*SELECT/i.test(sql)) {
        reached();
        await gate;
      }
      return rows as never;
    },
  };
  return { handle, paused, release };
}

beforeEach(() => db.query(`INSERT INTO users (id, name, email) VALUES (1, 'Tom', 'tom@example.com')`));

it('cache-aside "update, then delete" leaves the stale row in the cache', async () => {
  const gate = pauseAfterSelect(db);
  const reading = new UserCache(gate.handle, redis).getUser(1); // R: GET user:1 (miss), R: SELECT (v1: Tom)
  await gate.paused;
  await new UserCache(db, redis).updateUser(1, 'Jerry'); //       W: UPDATE (v2: Jerry), W: DEL user:1
  gate.release();
  await reading; //                                                R: SET user:1 (v1: Tom)

  await expect(redis).not.toBeConsistentWith(db, [userById]);
  let message = '';
  await expect(redis).toBeConsistentWith(db, [userById]).catch((err: Error) => (message = err.message));
  expect(message.replace(/\u001b\[[0-9;]*m/g, '')).toMatchSnapshot();
});

it('the same order with a lease and a compare-and-set fill leaves the cache consistent', async () => {
  const gate = pauseAfterSelect(db);
  const reading = new LeasedUserCache(gate.handle, redis).getUser(1); // R: GET (miss), R: SET lease NX, R: SELECT (v1)
  await gate.paused;
  await expect(redis).toBeConsistentWith(db, [userById]); //               the lease holds no data: skipped
  await new LeasedUserCache(db, redis).updateUser(1, 'Jerry'); //         W: UPDATE (v2), W: DEL (kills the lease)
  gate.release();
  await reading; //                                                       R: EVAL compare-and-set: lease gone, no write

  expect(await redis.get('user:1')).toBeNull();
  await expect(redis).toBeConsistentWith(db, [userById]);
  // The next read fills v2, and the cache stays consistent.
  await new LeasedUserCache(db, redis).getUser(1);
  expect(JSON.parse((await redis.get('user:1'))!)).toEqual({ id: 1, name: 'Jerry', email: 'tom@example.com' });
  await expect(redis).toBeConsistentWith(db, [userById]);
});
