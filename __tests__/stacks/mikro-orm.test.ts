/**
 * docs/stacks.md#mikroorm: MikroORM 6 on the real PostgreSQL. MikroORM runs its SQL through a Knex instance of its own
 * (`orm.em.getConnection().getKnex()`): given as the race's `db` (bound), every statement MikroORM sends from an actor,
 * its flush's transaction included, is a step on the actor's own connection.
 */
import type { Knex } from 'knex';
import { MikroORM } from '@mikro-orm/postgresql';
import { everyInterleaving } from '../../src';
import { MikroOrmLeasedUserService, MikroOrmUserService, UserSchema } from '../../examples/stacks/mikro-orm';
import { postgresDatabase, type StackDatabase } from './databases';
import { caught, fixedToken, order, userScenario } from './harness';

let database: StackDatabase;
let orm: MikroORM;
let knex: Knex;

// #region docs
beforeAll(async () => {
  database = await postgresDatabase('mikro_orm');
  orm = await MikroORM.init({ clientUrl: database.url, entities: [UserSchema], pool: { min: 0, max: 6 } });
  knex = orm.em.getConnection().getKnex() as unknown as Knex; // MikroORM's own Knex
});
afterAll(async () => {
  await orm?.close(true);
  await database?.drop();
});

const scenario = (Service: typeof MikroOrmUserService) =>
  userScenario<Knex>({
    db: knex,
    resetDb: (db) => db.raw('TRUNCATE users'),
    seed: (db) => db.raw(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
    service: ({ redis }) => (Service === MikroOrmLeasedUserService ? new MikroOrmLeasedUserService(orm, redis, fixedToken) : new Service(orm, redis)),
    checkDb: knex,
  });
// #endregion docs

describe('MikroORM 6 (postgresql)', () => {
  it('the classic "update, then delete" is caught, with the SQL MikroORM sends as steps', async () => {
    const e = await caught(everyInterleaving(scenario(MikroOrmUserService)));
    expect(e.code).toBe('RACE_FAILED');
    expect(order(e)).toEqual(['reader:GET', 'reader:select', 'writer:select', 'writer:BEGIN;', 'writer:update', 'writer:COMMIT;', 'writer:DEL', 'reader:SET']);
    // MikroORM inlines the parameters into the SQL it hands Knex.
    expect(e.steps[1]).toBe(`reader  db select "u0".* from "users" as "u0" where "u0"."id" = 1 limit 1 -> {id: 1, name: 'Tom', email: null}`);
    expect(e.steps[4]).toBe(`writer  db update "users" set "name" = 'Jerry' where "id" = 1 -> 1 row`);
    expect(e.message).toContain('stale');
  });

  it('the lease + compare-and-set fill passes every interleaving', async () => {
    // The writer's flush adds a SELECT and a transaction: more orders than the other stacks, 10 distinct.
    await expect(everyInterleaving(scenario(MikroOrmLeasedUserService))).resolves.toMatchObject({ schedules: 10, classes: 10, complete: true });
  });
});
