/**
 * docs/stacks.md#postgresjs: postgres.js on the real PostgreSQL. Its `sql` is a function (a tagged template), recognised
 * as postgres.js: given as the race's `db`, each actor gets an `sql` of its own whose awaited queries are steps on a
 * reserved connection.
 */
import postgres, { type Sql } from 'postgres';
import { bindToActors, everyInterleaving, InvalidRaceScenarioError, race, toQueryable } from '../../src';
import { PostgresJsLeasedUserService, PostgresJsUserService } from '../../examples/stacks/postgresjs';
import { postgresDatabase, type StackDatabase } from './databases';
import { caught, fixedToken, order, userScenario } from './harness';

let database: StackDatabase;
let sql: Sql;

// #region docs
beforeAll(async () => {
  database = await postgresDatabase('postgresjs');
  sql = postgres(database.url, { max: 6, onnotice: () => {} });
});
afterAll(async () => {
  await sql?.end();
  await database?.drop();
});

const scenario = (Service: typeof PostgresJsUserService) =>
  userScenario<Sql>({
    db: sql,
    resetDb: (db) => db`TRUNCATE users`,
    seed: (db) => db`INSERT INTO users (id, name) VALUES (1, 'Tom')`,
    service: ({ db, redis }) => (Service === PostgresJsLeasedUserService ? new PostgresJsLeasedUserService(db, redis, fixedToken) : new Service(db, redis)),
    checkDb: sql,
  });
// #endregion docs

describe('postgres.js', () => {
  it('the classic "update, then delete" is caught, with its own SQL as steps', async () => {
    const e = await caught(everyInterleaving(scenario(PostgresJsUserService)));
    expect(e.code).toBe('RACE_FAILED');
    expect(order(e)).toEqual(['reader:GET', 'reader:SELECT', 'writer:UPDATE', 'writer:DEL', 'reader:SET']);
    expect(e.steps[1]).toBe("reader  db SELECT id, name, email FROM users WHERE id = $1 [1] -> {id: 1, name: 'Tom', email: null}");
    expect(e.steps[2]).toBe("writer  db UPDATE users SET name = $1 WHERE id = $2 ['Jerry', 1] -> 1 row");
    expect(e.message).toContain('stale');
  });

  it('the lease + compare-and-set fill passes every interleaving', async () => {
    await expect(everyInterleaving(scenario(PostgresJsLeasedUserService))).resolves.toMatchObject({ schedules: 6, classes: 6, complete: true }); // 15 orders, 6 distinct
  });

  it('is a database handle of its own kind, not a query function: `$1` SQL runs with sql.unsafe', async () => {
    await sql`INSERT INTO users (id, name) VALUES (7, 'Spike')`;
    const handle = toQueryable(sql);
    expect(handle.kind).toBe('postgres.js');
    expect(await handle.query('SELECT name FROM users WHERE id = $1 AND name <> $2', [7, 'Tom'])).toEqual([{ name: 'Spike' }]);
    await sql`DELETE FROM users`;
  });

  it('fragments and helpers are not steps; the query that uses them is one', async () => {
    const r = race({ db: sql });
    const writer = r.actor('writer');
    const db = writer.db as Sql;
    await writer.run(async () => {
      const where = db`WHERE id = ${2}`;
      await db`INSERT INTO users ${db({ id: 2, name: 'Tyke' })}`;
      await db`UPDATE users SET name = ${'Tyke 2'} ${where}`;
    });
    expect(r.steps.map((s) => s.description)).toEqual(['db INSERT INTO users ${...}', "db UPDATE users SET name = $1 ${...} ['Tyke 2']"]);
    await r.close();
    expect(await sql`SELECT name FROM users WHERE id = 2`).toEqual([{ name: 'Tyke 2' }]);
    await sql`DELETE FROM users`;
  });

  it("what the race cannot order on the actor's one connection fails loudly: sql.begin is RACE_UNINSTRUMENTED_IO", async () => {
    const r = race({ db: sql });
    const writer = r.actor('writer');
    const db = writer.db as Sql;
    await expect(writer.run(() => db.begin(async (tx) => tx`SELECT 1`))).rejects.toMatchObject({ code: 'RACE_UNINSTRUMENTED_IO' });
    await r.close();
  });

  it('cannot be bound in place (it is a function): bindToActors names the fix', () => {
    expect(() => bindToActors(sql)).toThrow(InvalidRaceScenarioError);
    expect(() => bindToActors(sql)).toThrow(/Pass it as the race's `db` and give the service the actor's `db`/);
  });
});
