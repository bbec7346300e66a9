/**
 * Stack: cache-manager 7 over Keyv with @keyv/redis (node-redis underneath), as cache-manager's docs set it up:
 * one cache per process, `wrap(key, load, ttl)` to read through, `del(key)` to invalidate.
 * `__tests__/stacks/cache-manager.test.ts` binds the store's node-redis client with `bindToActors`, so each
 * actor's wrap/get/del goes over its own connection as steps.
 */
import KeyvRedis from '@keyv/redis';
import { createCache } from 'cache-manager';
import { Keyv } from 'keyv';
import type { Queryable } from '../../src';

export interface User {
  id: number;
  name: string;
  email: string | null;
}

// #region docs
// One cache per process, as in cache-manager's README: Keyv with the Redis store.
export function createUserCache(redisUrl: string) {
  const store = new KeyvRedis(redisUrl); // its node-redis client: store.client
  const keyv = new Keyv({ store }); // namespace 'keyv': user:1 is stored under keyv::keyv:user:1
  return { store, keyv, cache: createCache({ stores: [keyv] }) };
}
type UserCache = ReturnType<typeof createUserCache>;
const TTL_MS = 3_600_000;

// Cache-aside with cache-manager: wrap() reads through (GET, on a miss load and SET); a write updates the
// database, then del()s the key.
export class UserService {
  constructor(
    protected readonly db: Queryable,
    protected readonly users: UserCache,
  ) {}

  getUser(id: number): Promise<User | null> {
    return this.users.cache.wrap(`user:${id}`, () => this.load(id), TTL_MS);
  }

  protected async load(id: number): Promise<User | null> {
    const [row] = await this.db.query<User & Record<string, unknown>>('SELECT id, name, email FROM users WHERE id = $1', [id]);
    return row ?? null;
  }

  async updateUser(id: number, name: string): Promise<void> {
    await this.db.query('UPDATE users SET name = $1 WHERE id = $2', [name, id]);
    await this.users.cache.del(`user:${id}`);
  }
}
// #endregion docs

// #region docs
// The fix. cache-manager has no compare-and-set, so the miss path goes to the store's Redis client: a lease
// (SET NX PX) on Keyv's key, and a fill in Keyv's own format that a script writes only while the lease is
// there. The writer is unchanged: its del() kills the lease. A lease is not valid Keyv data, so a cache.get()
// that meets one sees a miss (Keyv's deserializer throws, cache-manager's get() returns undefined).
const FILL_IF_LEASED = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) else return false end`;

export class LeaseUserService extends UserService {
  constructor(
    db: Queryable,
    users: UserCache,
    private readonly token: () => string, // crypto.randomUUID in production; fixed in tests
  ) {
    super(db, users);
  }

  override async getUser(id: number): Promise<User | null> {
    const hit = await this.users.cache.get<User | null>(`user:${id}`);
    if (hit !== undefined) return hit;
    const key = `keyv::keyv:user:${id}`; // where Keyv's Redis store keeps user:<id>
    const lease = `lease:${this.token()}`;
    const client = this.users.store.client as { set(k: string, v: string, o: object): Promise<string | null>; eval(s: string, o: object): Promise<unknown> };
    const mine = (await client.set(key, lease, { NX: true, PX: 10_000 })) === 'OK';
    const row = await this.load(id);
    if (mine) {
      const entry = await this.users.keyv.serialize!({ value: row, expires: Date.now() + TTL_MS });
      await client.eval(FILL_IF_LEASED, { keys: [key], arguments: [lease, entry, String(TTL_MS)] });
    }
    return row;
  }
}
// #endregion docs
