/**
 * Stacks: node-redis 5 (`redis`) and 6 (installed as the `redis6` alias). The same service code runs on both:
 * `__tests__/stacks/node-redis5.test.ts` and `node-redis6.test.ts` run it with a client of each, as the actors'
 * clients (the `redis` option) and as a module-level client bound with `bindToActors`.
 */
import type { Queryable } from '../../src';

/** The part of the node-redis API the services use: `createClient()` of node-redis 5 and 6 has it. */
export interface NodeRedisApi {
  get(key: string): Promise<string | null>;
  set(key: string, value: string, options: { EX: number } | { NX: true; PX: number }): Promise<string | null>;
  del(key: string): Promise<number>;
  eval(script: string, options: { keys: string[]; arguments: string[] }): Promise<unknown>;
}

export interface User {
  id: number;
  name: string;
  email: string | null;
}

// #region docs
// Cache-aside as node-redis users write it: read through the cache; on a write, update the database, then DEL.
export class UserService {
  constructor(
    private readonly db: Queryable,
    private readonly redis: NodeRedisApi, // createClient() of node-redis 5 or 6, connected
  ) {}

  async getUser(id: number): Promise<User | null> {
    const cached = await this.redis.get(`user:${id}`);
    if (cached !== null) return JSON.parse(cached) as User;
    const [row] = await this.db.query<User & Record<string, unknown>>('SELECT id, name, email FROM users WHERE id = $1', [id]);
    if (!row) return null;
    await this.redis.set(`user:${id}`, JSON.stringify(row), { EX: 3600 });
    return row;
  }

  async updateUser(id: number, name: string): Promise<void> {
    await this.db.query('UPDATE users SET name = $1 WHERE id = $2', [name, id]);
    await this.redis.del(`user:${id}`);
  }
}
// #endregion docs

// #region docs
// The fix: lease (SET NX PX) on a miss, fill with a compare-and-set script only while the lease is still there.
const FILL_IF_LEASED = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) else return false end`;

export class LeaseUserService extends UserService {
  constructor(
    private readonly leaseDb: Queryable,
    private readonly leaseRedis: NodeRedisApi,
    private readonly token: () => string, // crypto.randomUUID in production; fixed in tests
  ) {
    super(leaseDb, leaseRedis);
  }

  override async getUser(id: number): Promise<User | null> {
    const key = `user:${id}`;
    const cached = await this.leaseRedis.get(key);
    if (cached !== null && !cached.startsWith('lease:')) return JSON.parse(cached) as User;
    const lease = `lease:${this.token()}`;
    const mine = cached === null && (await this.leaseRedis.set(key, lease, { NX: true, PX: 10_000 })) === 'OK';
    const [row] = await this.leaseDb.query<User & Record<string, unknown>>('SELECT id, name, email FROM users WHERE id = $1', [id]);
    if (mine && row) await this.leaseRedis.eval(FILL_IF_LEASED, { keys: [key], arguments: [lease, JSON.stringify(row), '3600'] });
    return row ?? null;
  }
}
// #endregion docs
