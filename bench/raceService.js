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

/** The check every approach runs after each order: is user:1 what a fresh read-through would store? */
async function consistent(redis, db) {
  const cached = await redis.get('user:1');
  if (cached === null) return true;
  const [row] = await db.query('SELECT id, name, email FROM users WHERE id = $1', [1]);
  return JSON.stringify(row) === cached;
}

module.exports = { UserCache, consistent };
