/**
 * Stacks: ioredis 5, ioredis 6 and iovalkey (a fork of ioredis with the same API). The same service code runs
 * on all three: `__tests__/stacks/ioredis5.test.ts`, `ioredis6.test.ts` and `iovalkey.test.ts` run it with a
 * client of each library, as the actors' clients (the `redis` option) and as a module-level client bound with
 * `bindToActors`.
 *
 * The database side is a `Queryable` (`query(sql, params)` resolving the rows: `testDb()`); the SQL stacks'
 * own recipes are in the other sections of docs/stacks.md.
 */
import type { Queryable } from '../../src';

/** The part of the ioredis API the services use: ioredis 5 and 6 and iovalkey clients all have it. */
export interface IoredisApi {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ex: 'EX', seconds: number): Promise<unknown>;
  set(key: string, value: string, px: 'PX', ms: number, nx: 'NX'): Promise<'OK' | null>;
  del(...keys: string[]): Promise<number>;
  eval(script: string, numKeys: number, ...args: Array<string | number>): Promise<unknown>;
}

export interface User {
  id: number;
  name: string;
  email: string | null;
}

// #region docs
// The cache-aside service as ioredis' and the cache-aside literature write it:
// read through the cache, and on a write "update the database, then delete the key".
export class UserService {
  constructor(
    private readonly db: Queryable,
    private readonly redis: IoredisApi, // an ioredis 5 or 6, or iovalkey, client
  ) {}

  async getUser(id: number): Promise<User | null> {
    const cached = await this.redis.get(`user:${id}`);
    if (cached !== null) return JSON.parse(cached) as User;
    const [row] = await this.db.query<User & Record<string, unknown>>('SELECT id, name, email FROM users WHERE id = $1', [id]);
    if (!row) return null;
    await this.redis.set(`user:${id}`, JSON.stringify(row), 'EX', 3600);
    return row;
  }

  async updateUser(id: number, name: string): Promise<void> {
    await this.db.query('UPDATE users SET name = $1 WHERE id = $2', [name, id]);
    await this.redis.del(`user:${id}`);
  }
}
// #endregion docs

// #region docs
// The fix: a reader that misses takes a lease (SET NX), reads the database, and fills only while its lease is
// still there (compare-and-set in Lua). The writer's DEL kills the lease, so a fill from the old row is refused.
const FILL_IF_LEASED = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) else return false end`;

export class LeaseUserService extends UserService {
  constructor(
    private readonly leaseDb: Queryable,
    private readonly leaseRedis: IoredisApi,
    private readonly token: () => string, // crypto.randomUUID in production; fixed in tests
  ) {
    super(leaseDb, leaseRedis);
  }

  override async getUser(id: number): Promise<User | null> {
    const key = `user:${id}`;
    const cached = await this.leaseRedis.get(key);
    if (cached !== null && !cached.startsWith('lease:')) return JSON.parse(cached) as User;
    const lease = `lease:${this.token()}`;
    const mine = cached === null && (await this.leaseRedis.set(key, lease, 'PX', 10_000, 'NX')) === 'OK';
    const [row] = await this.leaseDb.query<User & Record<string, unknown>>('SELECT id, name, email FROM users WHERE id = $1', [id]);
    if (mine && row) await this.leaseRedis.eval(FILL_IF_LEASED, 1, key, lease, JSON.stringify(row), 3600);
    return row ?? null;
  }
}
// #endregion docs
