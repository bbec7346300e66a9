/** Stack: iovalkey (the Valkey fork of ioredis), as the actors' clients and as a bound module-level client. */
import Redis from 'iovalkey';
import { bindToActors, everyInterleaving, redisUrl } from '../../src';
import { LeaseUserService, UserService } from '../../examples/stacks/ioredis';
import { expectClassicRaceCaught, userScenario } from './redisStackScenario';

const FILL = 'reader  redis SET user:1 {"id":1,"name":"Tom","email":null} EX 3600 -> OK';
let client: Redis;
beforeAll(() => {
  client = new Redis(redisUrl());
});
afterAll(async () => {
  await client.quit();
});

describe('iovalkey', () => {
  it('the actors get iovalkey clients of their own; the classic race is caught with its GET, DEL and SET as steps', async () => {
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

  it('the lease + compare-and-set fill passes every interleaving', async () => {
    await expect(everyInterleaving(userScenario(({ db, redis }) => new LeaseUserService(db, redis, () => 'reader'), { redis: client }))).resolves.toMatchObject({ complete: true });
  });

  it('a module-level iovalkey client bound with bindToActors: each actor\'s calls are its steps, the race is caught', async () => {
    const moduleRedis = bindToActors(new Redis(redisUrl()));
    try {
      const steps = await expectClassicRaceCaught(userScenario(({ db }) => new UserService(db, moduleRedis)));
      expect(steps[4]).toBe(FILL);
      await expect(everyInterleaving(userScenario(({ db }) => new LeaseUserService(db, moduleRedis, () => 'reader')))).resolves.toMatchObject({ complete: true });
    } finally {
      await moduleRedis.quit();
    }
  });
});
