import Redis from 'ioredis';
import { startRedisServer, type RedisServer } from '../../src/server/redisServer';

/**
 * A redis-server of the test file's own (not the preset's), with an ioredis client on it for inspecting and
 * arranging: started before the file's tests, stopped after them. Read `server` and `admin` inside hooks and tests.
 */
export function useOwnRedisServer(): { readonly server: RedisServer; readonly admin: Redis } {
  const own = {} as { server: RedisServer; admin: Redis };
  beforeAll(async () => {
    own.server = await startRedisServer({ binary: '/usr/bin/redis-server' });
    own.admin = new Redis(own.server.url);
  });
  afterAll(async () => {
    await own.admin?.quit();
    await own.server?.stop();
  });
  return own;
}
