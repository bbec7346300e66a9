/**
 * Stack: BentoCache 1.6 with its Redis driver, L2 only and L1 (memory) + L2 (Redis). BentoCache is an ES module
 * only, which Jest's CommonJS runtime cannot load: `__tests__/stacks/bentocache.test.ts` runs the race in a
 * plain Node process (`__tests__/fixtures/stacks/bentocache-race.mjs`, on the built package and pg-mem).
 *
 * The database side is a node-postgres Pool (pg-mem's in the test): `query()` resolves `{ rows }`.
 */
// #region docs
import { BentoCache, bentostore } from 'bentocache';
import { memoryDriver } from 'bentocache/drivers/memory';
import { redisDriver } from 'bentocache/drivers/redis';

// One BentoCache per process, as in its docs. `connection` is an ioredis client the process keeps (bound to the
// race's actors with bindToActors in the test); `l1: true` puts an in-memory L1 in front of Redis.
export function createBento(connection, { l1 = false } = {}) {
  const store = l1 ? bentostore().useL1Layer(memoryDriver({ maxSize: '10mb' })) : bentostore();
  return new BentoCache({ default: 'cache', stores: { cache: store.useL2Layer(redisDriver({ connection })) } });
}

// Cache-aside with getOrSet; a write updates the database, then deletes the key (L1, then L2's UNLINK).
export class UserService {
  constructor(db, bento) {
    this.db = db;
    this.bento = bento;
  }

  getUser(id) {
    return this.bento.getOrSet({ key: `user:${id}`, ttl: '1h', factory: () => this.load(id) });
  }

  async load(id) {
    const { rows } = await this.db.query('SELECT id, name, email FROM users WHERE id = $1', [id]);
    return rows[0] ?? null;
  }

  async updateUser(id, name) {
    await this.db.query('UPDATE users SET name = $1 WHERE id = $2', [name, id]);
    await this.bento.delete({ key: `user:${id}` });
  }
}
// #endregion docs

// #region docs
// The fix (L2). BentoCache has no compare-and-set: the miss path takes a lease on BentoCache's Redis key
// (SET NX PX) and fills it, in BentoCache's own entry format, with a script that writes only while the lease is
// there. The writer's UNLINK kills the lease. A lease is not a BentoCache entry: BentoCache's own get() on it
// would fail to parse it, so readers go through getUser (its raw GET) while leases are in use.
const FILL_IF_LEASED = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3]) else return false end`;
const TTL_MS = 3_600_000;

export class LeaseUserService extends UserService {
  constructor(db, bento, redis, token) {
    super(db, bento);
    this.redis = redis; // the ioredis client BentoCache's driver uses
    this.token = token; // () => crypto.randomUUID() in production; fixed in tests
  }

  async getUser(id) {
    const key = `bentocache:user:${id}`; // where BentoCache's Redis driver keeps user:<id>
    const cached = await this.redis.get(key);
    if (cached !== null && !cached.startsWith('lease:')) return JSON.parse(cached).value;
    const lease = `lease:${this.token()}`;
    const mine = cached === null && (await this.redis.set(key, lease, 'PX', 10_000, 'NX')) === 'OK';
    const row = await this.load(id);
    if (mine) {
      const now = Date.now();
      const entry = JSON.stringify({ value: row, logicalExpiration: now + TTL_MS, tags: [], createdAt: now });
      await this.redis.eval(FILL_IF_LEASED, 1, key, lease, entry, TTL_MS);
    }
    return row;
  }
}
// #endregion docs

// #region docs
// L1 + L2 in one process. Hits are read through BentoCache (L1, then L2; an L2 hit fills L1); a miss takes the
// lease path above (with an L1, BentoCache reads a lease in L2 as a miss). bento.delete() clears L1 *before*
// its UNLINK: a read in between refills L1 from the old L2 entry, so the writer deletes once more after it.
export class L1LeaseUserService extends LeaseUserService {
  async getUser(id) {
    const hit = await this.bento.get({ key: `user:${id}` });
    if (hit !== undefined) return hit;
    return super.getUser(id);
  }

  async updateUser(id, name) {
    await super.updateUser(id, name);
    await this.bento.delete({ key: `user:${id}` }); // clears an L1 refilled before the first delete's UNLINK
  }
}
// #endregion docs
