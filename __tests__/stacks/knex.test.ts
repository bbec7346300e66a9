/**
 * docs/stacks.md#knex: Knex 3 on the real PostgreSQL (pg) and MariaDB (mysql2). A Knex instance is a function: it is
 * recognised as Knex (not taken for a `(sql, params) => rows` query function), given as `db`, and read by the
 * consistency check with the contracts' `$1` SQL.
 */
import knexFactory, { type Knex } from 'knex';
import { bindToActors, everyInterleaving, race, toQueryable } from '../../src';
import { KnexLeasedUserService, KnexUserService } from '../../examples/stacks/knex';
import { mysqlDatabase, postgresDatabase, type StackDatabase } from './databases';
import { caught, fixedToken, order, userScenario } from './harness';

const engines = [
  {
    name: 'pg',
    create: () => postgresDatabase('knex'),
    knex: (url: string) => knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 6 } }),
    select: 'select "id", "name", "email" from "users" where "id" = $1 limit $2 [1, 1]',
    update: `update "users" set "name" = $1 where "id" = $2 ['Jerry', 1] -> 1 row`,
  },
  {
    name: 'mysql2',
    create: () => mysqlDatabase('knex'),
    knex: (url: string) => knexFactory({ client: 'mysql2', connection: url, pool: { min: 0, max: 6 } }),
    select: 'select `id`, `name`, `email` from `users` where `id` = ? limit ? [1, 1]',
    update: "update `users` set `name` = ? where `id` = ? ['Jerry', 1] -> 1 row",
  },
] as const;

describe.each(engines)('Knex ($name)', (engine) => {
  let database: StackDatabase;
  let knex: Knex;

  beforeAll(async () => {
    database = await engine.create();
    knex = engine.knex(database.url);
  });
  afterAll(async () => {
    await knex?.destroy();
    await database?.drop();
  });

  // #region docs
  const scenario = (Service: typeof KnexUserService) =>
    userScenario<Knex>({
      db: knex,
      resetDb: (db) => db.raw('TRUNCATE users'),
      seed: (db) => db('users').insert({ id: 1, name: 'Tom' }),
      service: ({ db, redis }) => (Service === KnexLeasedUserService ? new KnexLeasedUserService(db, redis, fixedToken) : new Service(db, redis)),
      checkDb: knex,
    });
  // #endregion docs

  it('the classic "update, then delete" is caught, with the SQL Knex sends as steps', async () => {
    const e = await caught(everyInterleaving(scenario(KnexUserService)));
    expect(e.code).toBe('RACE_FAILED');
    expect(order(e)).toEqual(['reader:GET', 'reader:select', 'writer:update', 'writer:DEL', 'reader:SET']);
    expect(e.steps[1]).toBe(`reader  db ${engine.select} -> {id: 1, name: 'Tom', email: null}`);
    expect(e.steps[2]).toBe(`writer  db ${engine.update}`);
    expect(e.message).toContain('stale');
  });

  it('the lease + compare-and-set fill passes every interleaving', async () => {
    await expect(everyInterleaving(scenario(KnexLeasedUserService))).resolves.toMatchObject({ schedules: 6, classes: 6, complete: true }); // 15 orders, 6 distinct
  });

  it('is a database handle of its own kind: `$1` SQL runs through knex.raw on both dialects', async () => {
    await knex('users').insert({ id: 7, name: 'Spike' });
    const handle = toQueryable(knex);
    expect(handle.kind).toBe('knex');
    expect(await handle.query('SELECT name FROM users WHERE id = $1 AND name <> $2', [7, 'Tom'])).toEqual([{ name: 'Spike' }]);
    // A `?` of the SQL itself is not taken for a binding; `$2` before `$1` reorders the bindings.
    expect(await handle.query(`SELECT 'who?' AS q, name FROM users WHERE name = $2 AND id = $1`, [7, 'Spike'])).toEqual([{ q: 'who?', name: 'Spike' }]);
    await knex('users').del();
  });

  it('a transaction inside an actor runs on the actor\'s connection, BEGIN and COMMIT as steps', async () => {
    const r = race({ db: knex });
    const writer = r.actor('writer');
    await writer.run(() => knex.transaction(async (trx) => {
      await trx('users').insert({ id: 2, name: 'Tyke' });
    }));
    expect(r.steps.map((s) => s.command)).toEqual(['BEGIN', 'INSERT', 'COMMIT']);
    await r.close();
    expect(await knex('users').where({ id: 2 }).first()).toMatchObject({ name: 'Tyke' });
    await knex('users').del();
  });

  it('bound, it behaves as before outside actors', async () => {
    expect(bindToActors(knex)).toBe(knex);
    await knex('users').insert({ id: 3, name: 'Butch' });
    expect(await knex('users').select('name')).toEqual([{ name: 'Butch' }]);
    await knex('users').del();
  });
});
