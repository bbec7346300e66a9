/**
 * docs/stacks.md#kysely: Kysely's PostgresDialect on the real PostgreSQL. The service keeps its Kysely instance at
 * module level over a pool bound to actors: Kysely's `pool.connect()` gives each actor its own connection.
 */
import type { Pool } from 'pg';
import { Kysely, PostgresDialect } from 'kysely';
import { bindToActors, everyInterleaving } from '../../src';
import { KyselyLeasedUserService, KyselyUserService, type Database } from '../../examples/stacks/kysely';
import { endPool, postgresDatabase, postgresPool, type StackDatabase } from './databases';
import { caught, fixedToken, order, userScenario } from './harness';

let database: StackDatabase;
let pool: Pool;
let db: Kysely<Database>;

// #region docs
beforeAll(async () => {
  database = await postgresDatabase('kysely');
  pool = bindToActors(postgresPool(database.url));
  db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
});
afterAll(async () => {
  await db?.destroy(); // ends the pool
  await endPool(pool); // and waits for its connections to close
  await database?.drop();
});

const scenario = (Service: typeof KyselyUserService) =>
  userScenario<Pool>({
    db: pool,
    resetDb: (p) => p.query('TRUNCATE users'),
    seed: (p) => p.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
    service: ({ redis }) => (Service === KyselyLeasedUserService ? new KyselyLeasedUserService(db, redis, fixedToken) : new Service(db, redis)),
    checkDb: pool,
  });
// #endregion docs

describe('Kysely (PostgresDialect)', () => {
  it('the classic "update, then delete" is caught, with the SQL Kysely sends as steps', async () => {
    const e = await caught(everyInterleaving(scenario(KyselyUserService)));
    expect(e.code).toBe('RACE_FAILED');
    expect(order(e)).toEqual(['reader:GET', 'reader:select', 'writer:update', 'writer:DEL', 'reader:SET']);
    expect(e.steps[1]).toBe(`reader  db select "id", "name", "email" from "users" where "id" = $1 [1] -> {id: 1, name: 'Tom', email: null}`);
    expect(e.steps[2]).toBe(`writer  db update "users" set "name" = $1 where "id" = $2 ['Jerry', 1] -> 1 row`);
    expect(e.message).toContain('stale');
  });

  it('the lease + compare-and-set fill passes every interleaving', async () => {
    await expect(everyInterleaving(scenario(KyselyLeasedUserService))).resolves.toMatchObject({ schedules: 6, classes: 6, complete: true }); // 15 orders, 6 distinct
  });
});
