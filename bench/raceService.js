// The seed scenario's service (examples/services/cacheAside.ts, docs/races.md #1) in plain JS for bench/race.js.
'use strict';

class UserCache {
  constructor(db, redis) {
    this.db = db;
    this.redis = redis;
  }
  async getUser(id) {
    const cached = await this.redis.get(`user:${id}`);
    if (cached !== null) return JSON.parse(cached);
    const [row] = await this.db.query('SELECT id, name, email FROM users WHERE id = $1', [id]);
    if (!row) return null;
    await this.redis.set(`user:${id}`, JSON.stringify(row));
    return row;
  }
  async updateUser(id, name) {
    await this.db.query('UPDATE users SET name = $1 WHERE id = $2', [name, id]);
    await this.redis.del(`user:${id}`);
  }
}

/**
 * examples/services/leaseCache.ts in plain JS, with a writer that invalidates several keys (the row's key, a list
 * of all users, and secondary keys): the three-actor scenario of bench/race.js (d).
 */
const FILL_IF_LEASED = `if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('SET', KEYS[1], ARGV[2]) return 1 else return 0 end`;
class LeaseUserCache {
  constructor(db, redis, token) {
    this.db = db;
    this.redis = redis;
    this.token = token;
  }
  async getUser(id) {
    const key = `user:${id}`;
    const cached = await this.redis.get(key);
    if (cached !== null && !cached.startsWith('lease:')) return JSON.parse(cached);
    const lease = `lease:${this.token}`;
    const mine = cached === null && (await this.redis.set(key, lease, 'PX', 10000, 'NX')) === 'OK';
    const [row] = await this.db.query('SELECT id, name, email FROM users WHERE id = $1', [id]);
    if (mine && row) await this.redis.eval(FILL_IF_LEASED, 1, key, lease, JSON.stringify(row));
    return row ?? null;
  }
  async updateUser(id, name, secondaryKeys) {
    await this.db.query('UPDATE users SET name = $1 WHERE id = $2', [name, id]);
    await this.redis.del(`user:${id}`);
    await this.redis.del('users:all');
    for (const k of secondaryKeys) await this.redis.del(k);
  }
}

/** The check every approach runs after each order: is user:1 what a fresh read-through would store? */
async function consistent(redis, db) {
  const cached = await redis.get('user:1');
  if (cached === null) return true;
  const [row] = await db.query('SELECT id, name, email FROM users WHERE id = $1', [1]);
  return JSON.stringify(row) === cached;
}

module.exports = { UserCache, LeaseUserCache, consistent };
