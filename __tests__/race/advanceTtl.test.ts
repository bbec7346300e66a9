import { createClient } from 'redis';
import { advanceTtl, InvalidRaceScenarioError, NotARedisClientError, redisUrl, testRedis } from '../../src';

describe('advanceTtl(redis, ms)', () => {
  it('moves every TTL forward without sleeping: expired keys are gone, the others keep ms less, no-TTL keys stay', async () => {
    const redis = testRedis();
    await redis.set('short', '1', 'PX', 5_000);
    await redis.set('long', '1', 'EX', 3_600);
    await redis.hset('hash', 'f', 'v');
    await redis.pexpire('hash', 30_000);
    await redis.set('forever', '1');
    await expect(advanceTtl(redis, 10_000)).resolves.toEqual({ moved: 2, expired: 1 });
    expect(await redis.exists('short')).toBe(0);
    expect(await redis.exists('forever')).toBe(1);
    expect(await redis.pttl('forever')).toBe(-1);
    // 10 s less than the hour (the time the test itself took can only lower it further, by far less than a minute).
    const left = await redis.pttl('long');
    expect(left).toBeLessThanOrEqual(3_590_000);
    expect(left).toBeGreaterThan(3_530_000);
    expect(await redis.pttl('hash')).toBeLessThanOrEqual(20_000);
    await expect(advanceTtl(redis, 20_000)).resolves.toEqual({ moved: 1, expired: 1 });
    expect((await redis.keys('*')).sort()).toEqual(['forever', 'long']);
  });

  it('works with node-redis, and over many keys (several SCAN pages)', async () => {
    const client = createClient({ url: redisUrl() });
    await client.connect();
    try {
      const multi = client.multi();
      for (let i = 0; i < 2500; i++) multi.set(`k:${i}`, 'v', { PX: i % 2 === 0 ? 1_000 : 100_000 });
      await multi.exec();
      await expect(advanceTtl(client, 1_000)).resolves.toEqual({ moved: 1250, expired: 1250 });
      expect(await client.dbSize()).toBe(1250);
    } finally {
      await client.close();
    }
  });

  it('rejects what is not a Redis client, and a bad ms', async () => {
    await expect(advanceTtl({}, 1)).rejects.toThrow(NotARedisClientError);
    await expect(advanceTtl(testRedis(), -1)).rejects.toThrow(InvalidRaceScenarioError);
    await expect(advanceTtl(testRedis(), Number.NaN)).rejects.toThrow(/ms must be a finite number >= 0/);
  });
});
