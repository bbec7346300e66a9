/** docs/stacks.md#mysql2: mysql2's promise pool directly, on the real MariaDB. */
import { createPool, type Pool } from 'mysql2/promise';
import { everyInterleaving } from '../../src';
import { MysqlLeasedUserService, MysqlUserService } from '../../examples/stacks/mysql2';
import { mysqlDatabase, type StackDatabase } from './databases';
import { caught, fixedToken, order, userScenario } from './harness';

let database: StackDatabase;
let pool: Pool;

beforeAll(async () => {
  database = await mysqlDatabase('mysql2');
  pool = createPool({ uri: database.url, connectionLimit: 6 });
});
afterAll(async () => {
  await pool?.end();
  await database?.drop();
});

// #region docs
const scenario = (Service: typeof MysqlUserService) =>
  userScenario<Pool>({
    db: pool,
    resetDb: (db) => db.query('TRUNCATE users'),
    seed: (db) => db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
    service: ({ db, redis }) => (Service === MysqlLeasedUserService ? new MysqlLeasedUserService(db, redis, fixedToken) : new Service(db, redis)),
    checkDb: pool,
  });
// #endregion docs

describe('mysql2', () => {
  it('the classic "update, then delete" is caught, with its own SQL as steps', async () => {
    const e = await caught(everyInterleaving(scenario(MysqlUserService)));
    expect(e.code).toBe('RACE_FAILED');
    expect(order(e)).toEqual(['reader:GET', 'reader:SELECT', 'writer:UPDATE', 'writer:DEL', 'reader:SET']);
    expect(e.steps[1]).toBe("reader  db SELECT id, name, email FROM users WHERE id = ? [1] -> {id: 1, name: 'Tom', email: null}");
    expect(e.steps[2]).toBe("writer  db UPDATE users SET name = ? WHERE id = ? ['Jerry', 1] -> 1 row");
    expect(e.message).toContain('stale');
  });

  it('the lease + compare-and-set fill passes every interleaving', async () => {
    await expect(everyInterleaving(scenario(MysqlLeasedUserService))).resolves.toMatchObject({ schedules: 6, classes: 6, complete: true }); // 15 orders, 6 distinct;
  });
});
