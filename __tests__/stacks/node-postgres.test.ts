/** docs/stacks.md#node-postgres: pg directly, on the real PostgreSQL. */
import type { Pool } from 'pg';
import { everyInterleaving } from '../../src';
import { PgLeasedUserService, PgUserService } from '../../examples/stacks/node-postgres';
import { endPool, postgresDatabase, postgresPool, type StackDatabase } from './databases';
import { caught, fixedToken, order, userScenario } from './harness';

let database: StackDatabase;
let pool: Pool;

beforeAll(async () => {
  database = await postgresDatabase('node_postgres');
  pool = postgresPool(database.url);
});
afterAll(async () => {
  await endPool(pool);
  await database?.drop();
});

// #region docs
const scenario = (Service: typeof PgUserService) =>
  userScenario<Pool>({
    db: pool,
    resetDb: (db) => db.query('TRUNCATE users'),
    seed: (db) => db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
    service: ({ db, redis }) => (Service === PgLeasedUserService ? new PgLeasedUserService(db, redis, fixedToken) : new Service(db, redis)),
    checkDb: pool,
  });
// #endregion docs

describe('node-postgres', () => {
  it('the classic "update, then delete" is caught, with its own SQL as steps', async () => {
    const e = await caught(everyInterleaving(scenario(PgUserService)));
    expect(e.code).toBe('RACE_FAILED');
    expect(order(e)).toEqual(['reader:GET', 'reader:SELECT', 'writer:UPDATE', 'writer:DEL', 'reader:SET']);
    expect(e.steps[1]).toBe("reader  db SELECT id, name, email FROM users WHERE id = $1 [1] -> {id: 1, name: 'Tom', email: null}");
    expect(e.steps[2]).toBe("writer  db UPDATE users SET name = $1 WHERE id = $2 ['Jerry', 1] -> 1 row");
    expect(e.message).toContain('stale');
  });

  it('the lease + compare-and-set fill passes every interleaving', async () => {
    await expect(everyInterleaving(scenario(PgLeasedUserService))).resolves.toMatchObject({ schedules: 6, classes: 6, complete: true }); // 15 orders, 6 distinct;
  });
});
