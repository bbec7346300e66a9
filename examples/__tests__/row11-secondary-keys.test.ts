/** docs/races.md #11: one row, several keys. */
import { everyInterleaving, type Scenario } from '../../src';
import { userByEmail, userByIdKey } from '../contracts';
import { AllKeysUserCache, TwoKeyUserCache } from '../services/secondaryKeys';
import { caught, order } from './helpers';

const row = { id: 1, name: 'Tom', email: 'a@example.com' };

const scenario = (Service: typeof TwoKeyUserCache): Scenario => ({
  setup: async ({ db, redis }) => {
    await db.query(`INSERT INTO users (id, name, email) VALUES (1, 'Tom', 'a@example.com')`);
    await redis.set('user:id:1', JSON.stringify(row));
    await redis.set('user:email:a@example.com', JSON.stringify(row));
  },
  actors: {
    writer: ({ redis, db }) => new Service(db, redis).changeEmail(1, 'b@example.com'),
    reader: ({ redis, db }) => new Service(db, redis).getUserByEmail('a@example.com'),
  },
  check: async ({ redis, db }) => {
    await expect(redis).toBeConsistentWith(db, [userByIdKey, userByEmail]);
  },
});

describe('docs/races.md #11: one row, several keys', () => {
  it('W:UPDATE(email a -> b) W:DEL(user:id:1) only R:GET(user:email:a) hits the stale row: caught', async () => {
    const e = await caught(everyInterleaving(scenario(TwoKeyUserCache)));
    expect(order(e)).toEqual(['writer:UPDATE', 'writer:DEL', 'reader:GET']);
    expect(e.steps[2]).toBe('reader  redis GET user:email:a@example.com -> {"id":1,"name":"Tom","email":"a@example.com"}');
    expect(e.message).toContain('user:email:a@example.com');
  });

  it('deleting the id key and both email keys together passes every interleaving', async () => {
    const summary = await everyInterleaving(scenario(AllKeysUserCache));
    expect(summary).toMatchObject({ complete: true });
  });
});
