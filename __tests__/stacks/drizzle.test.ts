/**
 * docs/stacks.md#drizzle: Drizzle ORM on node-postgres, on the real PostgreSQL. The service keeps its Drizzle database
 * at module level (`drizzle(pool)`): the pool is bound to actors, so each actor's statements go over its own
 * connection, as steps.
 */
import type { Pool } from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { bindToActors, everyInterleaving, toQueryable, UnsupportedDatabaseHandleError } from '../../src';
import { DrizzleLeasedUserService, DrizzleUserService } from '../../examples/stacks/drizzle';
import { endPool, postgresDatabase, postgresPool, type StackDatabase } from './databases';
import { caught, fixedToken, order, userScenario } from './harness';

let database: StackDatabase;
let pool: Pool;

// #region docs
beforeAll(async () => {
  database = await postgresDatabase('drizzle');
  pool = bindToActors(postgresPool(database.url));
});
afterAll(async () => {
  await endPool(pool);
  await database?.drop();
});

const scenario = (Service: typeof DrizzleUserService) => {
  const db = drizzle(pool); // as the service module would: one Drizzle database over the (bound) pool
  return userScenario<Pool>({
    db: pool,
    resetDb: (p) => p.query('TRUNCATE users'),
    seed: (p) => p.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
    service: ({ redis }) => (Service === DrizzleLeasedUserService ? new DrizzleLeasedUserService(db, redis, fixedToken) : new Service(db, redis)),
    checkDb: pool,
  });
};
// #endregion docs

describe('Drizzle (node-postgres)', () => {
  it('the classic "update, then delete" is caught, with the SQL Drizzle sends as steps', async () => {
    const e = await caught(everyInterleaving(scenario(DrizzleUserService)));
    expect(e.code).toBe('RACE_FAILED');
    expect(order(e)).toEqual(['reader:GET', 'reader:select', 'writer:update', 'writer:DEL', 'reader:SET']);
    expect(e.steps[1]).toMatch(/^reader {2}db select "id", "name", "email" from "users" where "users"."id" = \$1 \[1\] -> /);
    expect(e.steps[2]).toBe(`writer  db update "users" set "name" = $1 where "users"."id" = $2 ['Jerry', 1] -> 1 row`);
    expect(e.message).toContain('stale');
  });

  it('the lease + compare-and-set fill passes every interleaving', async () => {
    await expect(everyInterleaving(scenario(DrizzleLeasedUserService))).resolves.toMatchObject({ schedules: 6, classes: 6, complete: true }); // 15 orders, 6 distinct
  });

  it('a Drizzle database is not a database handle: docs/errors.md#unsupported_database_handle, pass its pool', () => {
    expect(() => toQueryable(drizzle(pool))).toThrow(UnsupportedDatabaseHandleError);
    expect(() => toQueryable(drizzle(pool))).toThrow(/a Knex or Sequelize instance, a postgres.js sql, a Queryable .* Received: an instance of NodePgDatabase\.$/);
  });
});
