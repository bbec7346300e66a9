/**
 * ORMs on their own pools, as a service module builds them (no bindToActors, no `db` option for the service): the
 * pools' node-postgres clients are bound on first use inside an actor (docs/race.md#module-level-clients), so the
 * classic race is caught with the ORM's own SQL as steps, and the lease + compare-and-set variant passes (Drizzle,
 * Kysely, Knex with connections already open). The Redis side is a module-level ioredis client too. A Knex pool
 * that has to open a connection inside an actor fails the race instead (RACE_UNINSTRUMENTED_IO): bind Knex by hand
 * (docs/stacks.md#knex).
 */
import Redis from 'ioredis';
import { Pool } from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { Kysely, PostgresDialect } from 'kysely';
import { everyInterleaving, redisUrl } from '../../src';
import knexFactory from 'knex';
import { DrizzleLeasedUserService, DrizzleUserService } from '../../examples/stacks/drizzle';
import { KnexLeasedUserService, KnexUserService } from '../../examples/stacks/knex';
import { KyselyLeasedUserService, KyselyUserService, type Database } from '../../examples/stacks/kysely';
import { endPool, postgresDatabase, postgresPool, type StackDatabase } from './databases';
import { caught, fixedToken, order, userScenario } from './harness';

interface UserService {
  getUser(id: number): Promise<unknown>;
  updateUser(id: number, name: string): Promise<void>;
}

let database: StackDatabase;
let admin: Pool;
let redis: Redis;

beforeAll(async () => {
  database = await postgresDatabase('unbound');
  admin = postgresPool(database.url);
  redis = new Redis(redisUrl());
});
afterAll(async () => {
  await redis.quit();
  await endPool(admin);
  await database?.drop();
});

/** The service under test uses its own module-level ORM and Redis client; the actors' clients go unused. */
const scenario = (service: () => UserService) =>
  userScenario<Pool>({
    db: admin,
    resetDb: (p) => p.query('TRUNCATE users'),
    seed: (p) => p.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
    service: () => service() as never,
    checkDb: admin,
  });

const orms = [
  {
    name: 'Drizzle on its own pg Pool',
    build: (url: string) => {
      const pool = new Pool({ connectionString: url, max: 4 });
      const db = drizzle(pool);
      return { plain: () => new DrizzleUserService(db, redis), leased: () => new DrizzleLeasedUserService(db, redis, fixedToken), end: () => pool.end() };
    },
  },
  {
    name: 'Kysely on its own pg Pool',
    build: (url: string) => {
      const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool: new Pool({ connectionString: url, max: 4 }) }) });
      return { plain: () => new KyselyUserService(db, redis), leased: () => new KyselyLeasedUserService(db, redis, fixedToken), end: () => db.destroy() };
    },
  },
  {
    name: 'Knex with its own pool of pg clients, warm (a connection per actor already open)',
    build: (url: string) => {
      const knex = knexFactory({ client: 'pg', connection: url, pool: { min: 0, max: 4 } });
      return { plain: () => new KnexUserService(knex, redis), leased: () => new KnexLeasedUserService(knex, redis, fixedToken), end: () => knex.destroy() };
    },
  },
];

describe.each(orms)('$name, never bound by hand', ({ build }) => {
  let orm: ReturnType<typeof build>;
  beforeAll(async () => {
    orm = build(database.url);
    // Warm, as a running service is: two requests at once leave two connections open in its pool.
    await Promise.all([orm.plain().getUser(1), orm.plain().getUser(1)]);
    await redis.del('user:1');
  });
  afterAll(async () => {
    await orm.end();
  });

  it('the classic race is caught with the ORM’s own SQL as steps', async () => {
    const e = await caught(everyInterleaving(scenario(() => orm.plain())));
    expect(e.code).toBe('RACE_FAILED');
    expect(order(e).map((s) => s.toLowerCase())).toEqual(['reader:get', 'reader:select', 'writer:update', 'writer:del', 'reader:set']);
  });

  it('the lease + compare-and-set variant passes every interleaving', async () => {
    await expect(everyInterleaving(scenario(() => orm.leased()))).resolves.toMatchObject({ complete: true });
  });
});


describe("Knex on a one-connection pool: the second actor waits for it, under tarn's own acquire timeout", () => {
  // Each query acquires the pool's only connection: the other actor's acquire waits, with tarn's 60 s timeout
  // pending. That timer is a timeout under virtual time (docs/race.md#time): it cannot fire while the holder still
  // has steps to take, so no order sees a KnexTimeoutError; were it an ordinary step, some order would fire it first.
  let knex: ReturnType<typeof knexFactory>;
  const errors: string[] = [];
  beforeAll(async () => {
    knex = knexFactory({ client: 'pg', connection: database.url, pool: { min: 0, max: 1, acquireTimeoutMillis: 60_000 } });
    await new KnexUserService(knex, redis).getUser(1);
    await redis.del('user:1');
  });
  afterAll(async () => {
    await knex.destroy();
  });
  const withOutcomes = (service: () => UserService) => {
    const s = scenario(service);
    return {
      ...s,
      check: async (args: Parameters<NonNullable<typeof s.check>>[0]) => {
        for (const o of Object.values(args.outcomes)) if (!o.ok) errors.push(String((o as { error: unknown }).error));
        await s.check!(args);
      },
    };
  };

  it('the classic race is caught, and no order times out', async () => {
    const e = await caught(everyInterleaving(withOutcomes(() => new KnexUserService(knex, redis))));
    expect(e.code).toBe('RACE_FAILED');
    expect(order(e).map((s) => s.toLowerCase())).toEqual(['reader:get', 'reader:select', 'writer:update', 'writer:del', 'reader:set']);
    expect(errors).toEqual([]);
  });

  it('the lease + compare-and-set variant passes every interleaving', async () => {
    await expect(everyInterleaving(withOutcomes(() => new KnexLeasedUserService(knex, redis, fixedToken)))).resolves.toMatchObject({ complete: true });
    expect(errors).toEqual([]);
  });
});
