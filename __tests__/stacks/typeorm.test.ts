/**
 * docs/stacks.md#typeorm: TypeORM's postgres driver on the real PostgreSQL. TypeORM builds its own node-postgres Pool
 * (`dataSource.driver.master`) and takes connections with `master.connect(callback)`: bound to actors, that is the
 * actor's own connection.
 */
import type { Pool } from 'pg';
import { DataSource } from 'typeorm';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { bindToActors, everyInterleaving } from '../../src';
import { TypeormLeasedUserService, TypeormUserService, UserEntity } from '../../examples/stacks/typeorm';
import { postgresDatabase, type StackDatabase } from './databases';
import { caught, fixedToken, order, userScenario } from './harness';

let database: StackDatabase;
let dataSource: DataSource;
let pool: Pool;

// #region docs
beforeAll(async () => {
  database = await postgresDatabase('typeorm');
  dataSource = await new DataSource({ type: 'postgres', url: database.url, entities: [UserEntity] }).initialize();
  pool = bindToActors((dataSource.driver as PostgresDriver).master as Pool); // TypeORM's own pg Pool
});
afterAll(async () => {
  await dataSource?.destroy();
  await database?.drop();
});

const scenario = (Service: typeof TypeormUserService) =>
  userScenario<Pool>({
    db: pool,
    resetDb: (p) => p.query('TRUNCATE users'),
    seed: (p) => p.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
    service: ({ redis }) => (Service === TypeormLeasedUserService ? new TypeormLeasedUserService(dataSource, redis, fixedToken) : new Service(dataSource, redis)),
    checkDb: pool,
  });
// #endregion docs

describe('TypeORM (postgres)', () => {
  it('the classic "update, then delete" is caught, with the SQL TypeORM sends as steps', async () => {
    const e = await caught(everyInterleaving(scenario(TypeormUserService)));
    expect(e.code).toBe('RACE_FAILED');
    expect(order(e)).toEqual(['reader:GET', 'reader:SELECT', 'writer:UPDATE', 'writer:DEL', 'reader:SET']);
    // A long statement is cut short in the label.
    expect(e.steps[1]).toBe(`reader  db SELECT "User"."id" AS "User_id", "User"."name" AS "User_name", "User"... [1] -> {User_id: 1, User_name: 'Tom', User_email: null}`);
    expect(e.steps[2]).toBe(`writer  db UPDATE "users" SET "name" = $1 WHERE "id" = $2 ['Jerry', 1] -> 1 row`);
    expect(e.message).toContain('stale');
  });

  it('the lease + compare-and-set fill passes every interleaving', async () => {
    await expect(everyInterleaving(scenario(TypeormLeasedUserService))).resolves.toMatchObject({ schedules: 6, classes: 6, complete: true }); // 15 orders, 6 distinct
  });
});
