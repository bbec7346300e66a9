/**
 * A service as written for production works as an actor as it is: its module-level clients, built at import time
 * from REDIS_URL and DATABASE_URL, are bound on first use inside an actor (no bindToActors, no test-only wiring but
 * the configuration), on the real databases. The classic race is caught on every run, with the service's own
 * commands and statements as steps; the versioned compare-and-set variant passes every interleaving, its
 * transaction on its own connection.
 */
import { everyInterleaving, RaceFailureError, redisUrl } from '../../src';

const TABLE = `autobind_users_${process.pid}`;

interface Service {
  redis: { get(key: string): Promise<string | null> };
  connected?: Promise<unknown>;
  getUser(id: number): Promise<unknown>;
  updateUser(id: number, name: string): Promise<void>;
  getUserVersioned(id: number): Promise<unknown>;
  updateUserVersioned(id: number, name: string): Promise<void>;
  close(): Promise<void>;
}

const cases = [
  {
    name: 'ioredis + node-postgres on PostgreSQL',
    module: './fixtures/production/ioredisPg',
    url: 'postgres://postgres@127.0.0.1:5432/test',
    sql: async (service: Service, text: string) => (await (service as unknown as { pool: import('pg').Pool }).pool.query(text)).rows as unknown[],
    update: '\\$1, version = version \\+ 1 WHER.*\\[\'Jerry\', 1\\]$',
    selectParam: '$1',
  },
  {
    name: 'node-redis + mysql2 on MariaDB',
    module: './fixtures/production/nodeRedisMysql',
    url: 'mysql://root@127.0.0.1:3306/test',
    sql: async (service: Service, text: string) => (await (service as unknown as { pool: import('mysql2/promise').Pool }).pool.query(text))[0] as unknown[],
    update: '\\?, version = version \\+ 1 WHER.*\\[\'Jerry\', 1\\]$',
    selectParam: '?',
  },
];

describe.each(cases)('a service that builds its clients at import time: $name', ({ module, url, sql, update, selectParam }) => {
  let service: Service;

  beforeAll(async () => {
    process.env.REDIS_URL = redisUrl();
    process.env.DATABASE_URL = url;
    process.env.USERS_TABLE = TABLE;
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    service = require(module) as Service;
    await service.connected;
    await sql(service, `DROP TABLE IF EXISTS ${TABLE}`);
    await sql(service, `CREATE TABLE ${TABLE} (id integer PRIMARY KEY, name varchar(40) NOT NULL, version integer NOT NULL)`);
  });

  afterAll(async () => {
    await sql(service, `DROP TABLE IF EXISTS ${TABLE}`);
    await service.close();
  });

  // Outside the actors: the service's own clients, as the test would use them.
  const scenario = () => ({
    setup: async () => {
      await sql(service, `DELETE FROM ${TABLE}`);
      await sql(service, `INSERT INTO ${TABLE} (id, name, version) VALUES (1, 'Tom', 1)`);
    },
    check: async () => {
      const cached = await service.redis.get('user:1');
      if (cached === null) return;
      const [row] = (await sql(service, `SELECT id, name, version FROM ${TABLE} WHERE id = 1`)) as Array<Record<string, unknown>>;
      expect(JSON.parse(cached)).toEqual({ ...row });
    },
  });

  it('the classic race is caught on every one of 20 runs, with the service’s own commands and statements as steps', async () => {
    const orders = new Set<string>();
    let steps: string[] = [];
    for (let i = 0; i < 20; i++) {
      const failure = await everyInterleaving({ ...scenario(), actors: { reader: () => service.getUser(1), writer: () => service.updateUser(1, 'Jerry') } }).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(failure).toBeInstanceOf(RaceFailureError);
      steps = (failure as RaceFailureError).steps.map((line) => line.replace(/ -> .*$/, '').replace(/\s+/g, ' '));
      orders.add(steps.join('\n'));
    }
    // The same shrunk schedule every time: the service's own commands and statements, in the racy order.
    expect(orders.size).toBe(1);
    expect(steps).toEqual([
      'reader redis GET user:1',
      `reader db SELECT id, name, version FROM ${TABLE} WHERE id = ${selectParam} [1]`,
      expect.stringMatching(new RegExp(`^writer db UPDATE ${TABLE} SET name = ${update}`)),
      'writer redis DEL user:1',
      'reader redis SET user:1 {"id":1,"name":"Tom","version":1}',
    ]);
  });

  it('the versioned compare-and-set variant passes every interleaving', async () => {
    const summary = await everyInterleaving({ ...scenario(), actors: { reader: () => service.getUserVersioned(1), writer: () => service.updateUserVersioned(1, 'Jerry') } });
    expect(summary).toMatchObject({ complete: true });
    expect(summary.schedules).toBeGreaterThan(1);
  });

  it('outside the actors the module-level clients are as they were', async () => {
    expect(await service.redis.get('no-such-key')).toBeNull();
    expect(await sql(service, `SELECT count(*) AS n FROM ${TABLE}`)).toHaveLength(1);
  });
});
