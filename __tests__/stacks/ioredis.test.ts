/**
 * Stack: the ioredis family, each as the actors' clients and as a bound module-level client: ioredis 5 (the
 * package's own dependency), ioredis 6 (installed as the `ioredis6` alias) and iovalkey (the Valkey fork).
 */
import Redis5 from 'ioredis';
import Redis6 from 'ioredis6';
import Valkey from 'iovalkey';
import { bindToActors, everyInterleaving, redisUrl } from '../../src';
import { LeaseUserService, UserService } from '../../examples/stacks/ioredis';
import { expectClassicRaceCaught, userScenario } from './redisStackScenario';

const FILL = 'reader  redis SET user:1 {"id":1,"name":"Tom","email":null} EX 3600 -> OK';

type Client = InstanceType<typeof Redis5>;
const libraries: Array<{ name: string; Redis: new (url: string) => Client }> = [
  { name: 'ioredis 5', Redis: Redis5 },
  { name: 'ioredis 6', Redis: Redis6 as unknown as new (url: string) => Client },
  { name: 'iovalkey', Redis: Valkey as unknown as new (url: string) => Client },
];

describe.each(libraries)('$name', ({ name, Redis }) => {
  let client: Client;
  beforeAll(() => {
    client = new Redis(redisUrl());
  });
  afterAll(async () => {
    await client.quit();
  });

  it(`the actors get ${name} clients of their own; the classic race is caught with its GET, DEL and SET as steps`, async () => {
    const seen = new Set<unknown>();
    const steps = await expectClassicRaceCaught(
      userScenario(({ db, redis }) => {
        seen.add((redis as object) instanceof Redis);
        return new UserService(db, redis);
      }, { redis: client }),
    );
    expect([...seen]).toEqual([true]);
    expect(steps[4]).toBe(FILL);
  });

  // #region docs
  it('the lease + compare-and-set fill passes every interleaving', async () => {
    await expect(everyInterleaving(userScenario(({ db, redis }) => new LeaseUserService(db, redis, () => 'reader'), { redis: client }))).resolves.toMatchObject({ complete: true });
  });

  it(`a module-level ${name} client bound with bindToActors: each actor's calls are its steps, the race is caught`, async () => {
    const moduleRedis = bindToActors(new Redis(redisUrl()));
    try {
      const steps = await expectClassicRaceCaught(userScenario(({ db }) => new UserService(db, moduleRedis)));
      expect(steps[4]).toBe(FILL);
      await expect(everyInterleaving(userScenario(({ db }) => new LeaseUserService(db, moduleRedis, () => 'reader')))).resolves.toMatchObject({ complete: true });
    } finally {
      await moduleRedis.quit();
    }
  });
  // #endregion docs
});
