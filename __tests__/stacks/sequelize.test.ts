/**
 * docs/stacks.md#sequelize: Sequelize 6's mysql dialect (mysql2) on the real MariaDB. Sequelize pools its own mysql2
 * connections: the instance is given as `db` (or bound with bindToActors), and its connection manager's
 * getConnection() hands each actor its own.
 */
import { Sequelize } from 'sequelize';
import { everyInterleaving, race, toQueryable } from '../../src';
import { defineUser, SequelizeLeasedUserService, SequelizeUserService } from '../../examples/stacks/sequelize';
import { mysqlDatabase, type StackDatabase } from './databases';
import { caught, fixedToken, order, userScenario } from './harness';

let database: StackDatabase;
let sequelize: Sequelize;
let users: ReturnType<typeof defineUser>;

// #region docs
beforeAll(async () => {
  database = await mysqlDatabase('sequelize');
  sequelize = new Sequelize(database.url, { dialect: 'mysql', logging: false, pool: { max: 6 } });
  users = defineUser(sequelize);
  // A model's first instance starts a setTimeout(0) (Sequelize's class-field check): built here, it is not a timer
  // step of whichever actor happens to build the first one.
  users.build();
});
afterAll(async () => {
  await sequelize?.close();
  await database?.drop();
});

const scenario = (Service: typeof SequelizeUserService) =>
  userScenario<Sequelize>({
    db: sequelize,
    resetDb: (db) => db.query('TRUNCATE users'),
    seed: (db) => db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
    service: ({ redis }) => (Service === SequelizeLeasedUserService ? new SequelizeLeasedUserService(users, redis, fixedToken) : new Service(users, redis)),
    checkDb: sequelize,
  });
// #endregion docs

describe('Sequelize 6 (mysql dialect, mysql2)', () => {
  it('the classic "update, then delete" is caught, with the SQL Sequelize sends as steps', async () => {
    const e = await caught(everyInterleaving(scenario(SequelizeUserService)));
    expect(e.code).toBe('RACE_FAILED');
    expect(order(e)).toEqual(['reader:GET', 'reader:SELECT', 'writer:UPDATE', 'writer:DEL', 'reader:SET']);
    expect(e.steps[1]).toBe("reader  db SELECT `id`, `name`, `email` FROM `users` AS `User` WHERE `User`.`id`... -> {id: 1, name: 'Tom', email: null}");
    expect(e.steps[2]).toBe("writer  db UPDATE `users` SET `name`=? WHERE `id` = ? ['Jerry', 1] -> 1 row");
    expect(e.message).toContain('stale');
  });

  it('the lease + compare-and-set fill passes every interleaving', async () => {
    await expect(everyInterleaving(scenario(SequelizeLeasedUserService))).resolves.toMatchObject({ schedules: 6, classes: 6, complete: true }); // 15 orders, 6 distinct
  });

  it('is a database handle of its own kind: `$1` SQL runs with Sequelize bind parameters', async () => {
    await sequelize.query(`INSERT INTO users (id, name) VALUES (7, 'Spike')`);
    const handle = toQueryable(sequelize);
    expect(handle.kind).toBe('sequelize');
    expect(await handle.query('SELECT name FROM users WHERE id = $1 AND name <> $2', [7, 'Tom'])).toEqual([{ name: 'Spike' }]);
    await sequelize.query('DELETE FROM users');
  });

  it("a managed transaction inside an actor runs on the actor's connection, its statements as steps", async () => {
    const r = race({ db: sequelize });
    const writer = r.actor('writer');
    await writer.run(() => sequelize.transaction(async (transaction) => {
      await users.create({ id: 2, name: 'Tyke', email: null }, { transaction });
    }));
    expect(r.steps.map((s) => s.command)).toEqual(['START', 'INSERT', 'COMMIT']);
    await r.close();
    expect(await users.findByPk(2, { raw: true })).toMatchObject({ name: 'Tyke' });
    await sequelize.query('DELETE FROM users');
  });
});
