/**
 * Sequelize as a service module builds it (no bindToActors, no `db` option for the service), on MariaDB, with a
 * one-connection pool: its connection manager is bound on first use inside an actor (docs/race.md#module-level-clients),
 * each actor's statements run on a connection of its own made by the pool's factory, and the pool's own acquire
 * timeout and reaper (sequelize-pool) run under virtual time (docs/race.md#time). The classic race is caught; the
 * lease + compare-and-set variant passes.
 */
import Redis from 'ioredis';
import { Sequelize } from 'sequelize';
import { createPool, type Pool } from 'mysql2/promise';
import { everyInterleaving, redisUrl } from '../../src';
import { defineUser, SequelizeLeasedUserService, SequelizeUserService } from '../../examples/stacks/sequelize';
import { mysqlDatabase, type StackDatabase } from './databases';
import { caught, fixedToken, order, userScenario } from './harness';

let database: StackDatabase;
let admin: Pool;
let redis: Redis;
let sequelize: Sequelize;
let users: ReturnType<typeof defineUser>;
const errors: string[] = [];

beforeAll(async () => {
  database = await mysqlDatabase('unbound_sequelize');
  admin = createPool({ uri: database.url, connectionLimit: 4 }); // each actor takes one for the race, and the reset and check need one
  redis = new Redis(redisUrl());
  // One connection, a 60 s acquire timeout and a reaper every second: the pool the two actors share.
  sequelize = new Sequelize(database.url, { dialect: 'mysql', logging: false, pool: { max: 1, min: 0, acquire: 60_000, evict: 1000 } });
  users = defineUser(sequelize);
  users.build(); // docs/stacks.md#sequelize: the first instance starts a setTimeout(0)
  await new SequelizeUserService(users, redis).getUser(1);
});
afterAll(async () => {
  await sequelize?.close();
  await redis?.quit();
  await admin?.end();
  await database?.drop();
});

const scenario = (service: () => SequelizeUserService) => {
  const s = userScenario<Pool>({
    db: admin,
    resetDb: (db) => db.query('TRUNCATE users'),
    seed: (db) => db.query(`INSERT INTO users (id, name) VALUES (1, 'Tom')`),
    service: () => service() as never,
    checkDb: admin,
  });
  return {
    ...s,
    setup: async (args: Parameters<NonNullable<typeof s.setup>>[0]) => {
      await s.setup!(args);
      await redis.del('user:1');
    },
    check: async (args: Parameters<NonNullable<typeof s.check>>[0]) => {
      for (const o of Object.values(args.outcomes)) if (!o.ok) errors.push(String((o as { error: unknown }).error));
      await s.check!(args);
    },
  };
};

describe('Sequelize 6 on its own one-connection pool, never bound by hand', () => {
  it('the classic race is caught with the SQL Sequelize sends as steps, and no order times out', async () => {
    const e = await caught(everyInterleaving(scenario(() => new SequelizeUserService(users, redis))));
    expect(e.code).toBe('RACE_FAILED');
    expect(order(e)).toEqual(['reader:GET', 'reader:SELECT', 'writer:UPDATE', 'writer:DEL', 'reader:SET']);
    expect(errors).toEqual([]);
  });

  it('the lease + compare-and-set variant passes every interleaving', async () => {
    await expect(everyInterleaving(scenario(() => new SequelizeLeasedUserService(users, redis, fixedToken)))).resolves.toMatchObject({ complete: true });
    expect(errors).toEqual([]);
  });
});
