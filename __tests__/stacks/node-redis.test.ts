/** Stack: node-redis 5 (`redis`) and 6 (installed as the `redis6` alias), as the actors' clients and as a bound module-level client. */
import { createClient as createClient5 } from 'redis';
import { createClient as createClient6 } from 'redis6';
import { bindToActors, everyInterleaving, redisUrl } from '../../src';
import { LeaseUserService, UserService } from '../../examples/stacks/node-redis';
import { expectClassicRaceCaught, userScenario } from './redisStackScenario';

const FILL = 'reader  redis SET user:1 {"id":1,"name":"Tom","email":null} EX 3600 -> OK';
const open: Array<{ close(): Promise<void> }> = [];
async function client(createClient: typeof createClient5) {
  const c = createClient({ url: redisUrl() });
  open.push(c);
  await c.connect();
  return c;
}
afterAll(async () => {
  await Promise.all(open.map((c) => c.close()));
});

describe.each([
  { name: 'node-redis 5', createClient: createClient5 },
  { name: 'node-redis 6', createClient: createClient6 as unknown as typeof createClient5 },
])('$name', ({ name, createClient }) => {
  it(`the actors get ${name} clients of their own; the classic race is caught with its GET, DEL and SET as steps`, async () => {
    const base = await client(createClient);
    const seen = new Set<unknown>();
    const steps = await expectClassicRaceCaught(
      userScenario(({ db, redis }) => {
        seen.add(Object.getPrototypeOf((redis as { _self?: object })._self ?? redis) === Object.getPrototypeOf((base as unknown as { _self?: object })._self ?? base));
        return new UserService(db, redis);
      }, { redis: base }),
    );
    expect([...seen]).toEqual([true]);
    expect(steps[4]).toBe(FILL);
  });

  it('the lease + compare-and-set fill passes every interleaving', async () => {
    const base = await client(createClient);
    await expect(everyInterleaving(userScenario(({ db, redis }) => new LeaseUserService(db, redis, () => 'reader'), { redis: base }))).resolves.toMatchObject({ complete: true });
  });

  it(`a module-level ${name} client bound with bindToActors: each actor's calls are its steps, the race is caught`, async () => {
    const moduleRedis = bindToActors(await client(createClient));
    const steps = await expectClassicRaceCaught(userScenario(({ db }) => new UserService(db, moduleRedis)));
    expect(steps[4]).toBe(FILL);
    await expect(everyInterleaving(userScenario(({ db }) => new LeaseUserService(db, moduleRedis, () => 'reader')))).resolves.toMatchObject({ complete: true });
  });
});
