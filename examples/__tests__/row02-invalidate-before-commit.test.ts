/** docs/races.md #2: invalidate before commit. Needs real transaction isolation: runs on the real PostgreSQL. */
import { Pool } from 'pg';
import { defineCache, everyInterleaving, replay, ScheduleReplayMismatchError, testDb, type Scenario } from '../../src';
import { userById } from '../contracts';
import { CommitThenInvalidate, HookInvalidatingUserCache, type PgPoolLike } from '../services/invalidateBeforeCommit';
import { caught, order } from './helpers';

const pool = new Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'test', max: 6 });
const table = `race_row2_users_${process.pid}`;

const pgUserById = defineCache({
  key: 'user:{id}',
  load: (db, { id }) => db.query(`SELECT id, name, email FROM ${table} WHERE id = $1`, [Number(id)]),
  skip: 'lease:',
});

beforeAll(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.query(`CREATE TABLE ${table} (id integer PRIMARY KEY, name text NOT NULL, email text)`);
});
afterAll(async () => {
  await pool.query(`DROP TABLE IF EXISTS ${table}`);
  await pool.end();
});

type Service = new (pool: PgPoolLike, redis: never, table: string) => HookInvalidatingUserCache;

function scenario(Service: Service): Scenario<NonNullable<Scenario['redis']>, Pool> {
  return {
    db: pool,
    resetDb: (db) => db.query(`TRUNCATE ${table}`),
    setup: ({ db }) => db.query(`INSERT INTO ${table} (id, name) VALUES (1, 'Tom')`),
    actors: {
      writer: ({ redis, db }) => new Service(db, redis as never, table).updateUser(1, 'Jerry'),
      reader: ({ redis, db }) => new Service(db, redis as never, table).getUser(1),
    },
    check: async ({ redis, db }) => {
      await expect(redis).toBeConsistentWith(db, [pgUserById]);
    },
  };
}

describe('docs/races.md #2: invalidate before commit (real PostgreSQL)', () => {
  it('W:BEGIN W:UPDATE W:DEL R:GET(miss) R:SELECT(v1, committed) R:SET(v1) W:COMMIT is caught', async () => {
    const e = await caught(everyInterleaving(scenario(HookInvalidatingUserCache)));
    expect(order(e)).toEqual(['writer:BEGIN', 'writer:UPDATE', 'writer:DEL', 'reader:GET', 'reader:SELECT', 'reader:SET', 'writer:COMMIT']);
    // The reader read the committed row while the writer's transaction was open: real isolation.
    expect(e.steps[4]).toContain("-> {id: 1, name: 'Tom', email: null}");
    expect(e.token).toBe('r1:writer*3,reader*3,writer');
  });

  it('invalidating after the commit, with the lease, passes every interleaving', async () => {
    class Fixed extends CommitThenInvalidate {
      constructor(p: PgPoolLike, r: never, t: string) {
        super(p, r, t, () => 'reader');
      }
    }
    const summary = await everyInterleaving(scenario(Fixed));
    expect(summary).toMatchObject({ complete: true });
    // The order that broke the hook version is fine now.
    await expect(replay('r1:writer*2,reader*4,writer*2', scenario(Fixed))).resolves.toMatchObject({ schedules: 1 });
    // A schedule abandoned mid-transaction (here: a token that does not fit) is rolled back before the reset.
    await expect(replay('r1:writer*2,reader*5', scenario(Fixed))).rejects.toThrow(ScheduleReplayMismatchError);
    await expect(pool.query(`SELECT count(*)::int AS n FROM ${table}`)).resolves.toMatchObject({ rows: [{ n: 0 }] });
  });

  it('pg-mem has no isolation: the same order passes there (why docs/races.md #2 needs a real database)', async () => {
    const onPgMem: Scenario = {
      setup: ({ db }) => db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
      actors: {
        writer: ({ redis, db }) => new HookInvalidatingUserCache(db.pool as unknown as PgPoolLike, redis).updateUser(1, 'Jerry'),
        reader: ({ redis, db }) => new HookInvalidatingUserCache(db.pool as unknown as PgPoolLike, redis).getUser(1),
      },
      check: async ({ redis }) => {
        await expect(redis).toBeConsistentWith(testDb(), [userById]);
      },
    };
    // The reader's SELECT sees the writer's uncommitted row (no isolation), so it fills the new value.
    await expect(replay('r1:writer*3,reader*3,writer', onPgMem)).resolves.toMatchObject({ schedules: 1 });
    // pg-mem still catches the shape of docs/races.md #1 (the reader's SELECT before the UPDATE).
    const e = await caught(everyInterleaving(onPgMem));
    expect(order(e)).toEqual(['reader:GET', 'reader:SELECT', 'writer:BEGIN', 'writer:UPDATE', 'writer:DEL', 'writer:COMMIT', 'reader:SET']);
  });
});
