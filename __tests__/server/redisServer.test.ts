import { startRedisServer, RedisServerStartError, type RedisServer } from '../../src';
import { findFreePort, pingAndIdentify } from '../../src/server/redisServer';

const binary = '/usr/bin/redis-server';
const started: RedisServer[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((s) => s.stop()));
});
async function start(...args: Parameters<typeof startRedisServer>) {
  const s = await startRedisServer(...args);
  started.push(s);
  return s;
}

it('starts a server on loopback that answers PING from its own pid, and stops it', async () => {
  const server = await start({ binary });
  expect(server.host).toBe('127.0.0.1');
  expect(await pingAndIdentify(server.port)).toBe(server.pid);
  await server.stop();
  await expect(pingAndIdentify(server.port)).rejects.toThrow(/ECONNREFUSED/);
});

it('never takes a port another server answers on: it detects the foreign pid and retries elsewhere', async () => {
  const other = await start({ binary });
  const tried: number[] = [];
  const ports = [other.port]; // the first choice collides, as when two Jest processes race for one port
  const server = await start({
    binary,
    choosePort: async () => {
      const p = ports.shift() ?? (await findFreePort());
      tried.push(p);
      return p;
    },
  });
  expect(tried[0]).toBe(other.port);
  expect(server.port).not.toBe(other.port);
  expect(await pingAndIdentify(server.port)).toBe(server.pid);
  expect(await pingAndIdentify(other.port)).toBe(other.pid); // the other one is untouched
});

it('gives up with a typed error when every port it tries is taken', async () => {
  const other = await start({ binary });
  const err = await startRedisServer({ binary, choosePort: async () => other.port, portAttempts: 3 }).catch((e) => e);
  expect(err).toBeInstanceOf(RedisServerStartError);
  expect(err.code).toBe('REDIS_SERVER_START_FAILED');
  expect(err.message).toContain('no free port after 3 attempts');
});

it('refuses args the library chooses itself, or that give the default user a password, before starting anything', async () => {
  const refusal = async (options: Partial<Parameters<typeof startRedisServer>[0]>) => {
    const err = await startRedisServer({ binary, ...options }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RedisServerStartError);
    expect(err).toMatchObject({ code: 'REDIS_SERVER_START_FAILED' });
    return (err as Error).message;
  };
  expect(await refusal({ args: ['--maxmemory', '64mb', '--port', '7000'] })).toMatch(/^\[REDIS_SERVER_START_FAILED\] redis-server was not started: --port in args: the library sets it/);
  // redis-server also takes a directive and its value as one argument, and ignores case.
  expect(await refusal({ args: ['--PORT 7000'] })).toContain('--PORT 7000 in args: the library sets it');
  expect(await refusal({ args: ['--requirepass', 'secret'] })).toContain('--requirepass in args: it can give the default user a password');
  expect(await refusal({ args: ['--user', 'default', 'on', '>pw'] })).toContain('--user in args');
  expect(await refusal({ unixSocket: `/tmp/${'x'.repeat(100)}.sock` })).toContain('unixSocket is 110 bytes long');
});

it('accepts a user other than the default one: readiness is a PING as the default user', async () => {
  const server = await start({ binary, args: ['--user', 'alice', 'on', '>pw', '~*', '+@all'] });
  expect(await pingAndIdentify(server.port)).toBe(server.pid);
});

it('reports a binary that is not redis-server', async () => {
  const err = await startRedisServer({ binary: '/bin/false' }).catch((e) => e);
  expect(err).toBeInstanceOf(RedisServerStartError);
  expect(err.message).toMatch(/process exited \(code 1/);
});

describe('a process that started servers and exits takes them along (built package, child process)', () => {
  const { execFile } = require('node:child_process') as typeof import('node:child_process');
  const { join } = require('node:path') as typeof import('node:path');
  const { REPO, waitForExit } = require('../helpers/processes') as typeof import('../helpers/processes');
  const endings = {
    'an uncaught exception': "setImmediate(() => { throw new Error('boom'); })",
    'an unhandled rejection': "throw new Error('boom')",
    'process.exit(0)': 'process.exit(0)',
    'the end of the program': '',
  };
  it.each(Object.entries(endings))('%s', async (_, ending) => {
    const script = `
      const { startRedisServer } = require(${JSON.stringify(join(REPO, 'dist', 'server', 'redisServer.js'))});
      (async () => {
        const servers = await Promise.all([1, 2].map(() => startRedisServer({ binary: '/usr/bin/redis-server' })));
        console.log(JSON.stringify(servers.map((s) => s.pid)));
        ${ending}
      })();`;
    const stdout = await new Promise<string>((resolve) => execFile(process.execPath, ['-e', script], (_err, out) => resolve(out)));
    const pids = JSON.parse(stdout) as number[];
    expect(pids).toHaveLength(2);
    // Killed in the child's exit handler, so gone (or going) the moment it has exited.
    expect(await waitForExit(pids, 5_000)).toEqual([]);
  });
});
