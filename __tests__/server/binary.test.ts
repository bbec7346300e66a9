import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRedisServerBinary, RedisBinaryNotFoundError } from '../../src';

const REAL = '/usr/bin/redis-server';
const dir = mkdtempSync(join(tmpdir(), 'jcc-binary-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const onPath = join(dir, 'path-dir');
require('node:fs').mkdirSync(onPath);
symlinkSync(REAL, join(onPath, 'redis-server'));
const notExecutable = join(dir, 'not-executable');
writeFileSync(notExecutable, '');
chmodSync(notExecutable, 0o644);

const noRms = { redisMemoryServer: null };

describe('findRedisServerBinary: the order is option, env, PATH, redis-memory-server', () => {
  it('takes the option first', async () => {
    await expect(
      findRedisServerBinary({ binary: REAL, env: { REDIS_SERVER_BINARY: join(onPath, 'redis-server'), PATH: onPath }, ...noRms }),
    ).resolves.toEqual({ path: REAL, source: 'option' });
  });

  it('then the env var', async () => {
    await expect(
      findRedisServerBinary({ env: { REDIS_SERVER_BINARY: REAL, PATH: onPath }, ...noRms }),
    ).resolves.toEqual({ path: REAL, source: 'env' });
  });

  it('then PATH', async () => {
    await expect(findRedisServerBinary({ env: { PATH: `/nonexistent:${onPath}` }, ...noRms })).resolves.toEqual({
      path: join(onPath, 'redis-server'),
      source: 'path',
    });
  });

  it('then redis-memory-server', async () => {
    await expect(
      findRedisServerBinary({ env: { PATH: '/nonexistent' }, redisMemoryServer: async () => REAL }),
    ).resolves.toEqual({ path: REAL, source: 'redis-memory-server' });
  });

  it('uses the installed redis-memory-server package when nothing else is there', async () => {
    // This repository installs it as an optional dependency with its download disabled and
    // REDISMS_SYSTEM_BINARY-equivalent config in package.json ("redisMemoryServer.systemBinary").
    const found = await findRedisServerBinary({ env: { PATH: '/nonexistent' } });
    expect(found.source).toBe('redis-memory-server');
  });

  it('refuses an option that points nowhere instead of falling through', async () => {
    const err = await findRedisServerBinary({ binary: notExecutable, env: { PATH: onPath }, ...noRms }).catch((e) => e);
    expect(err).toBeInstanceOf(RedisBinaryNotFoundError);
    expect(err.code).toBe('REDIS_BINARY_NOT_FOUND');
    expect(err.message).toContain(notExecutable);
  });

  it('refuses an env var that points nowhere', async () => {
    const err = await findRedisServerBinary({ env: { REDIS_SERVER_BINARY: '/no/such/redis', PATH: onPath }, ...noRms }).catch((e) => e);
    expect(err).toBeInstanceOf(RedisBinaryNotFoundError);
    expect(err.message).toContain('/no/such/redis');
  });

  it('explains how to install Redis when there is none anywhere', async () => {
    const err = await findRedisServerBinary({
      env: { PATH: '/nonexistent' },
      redisMemoryServer: async () => {
        throw new Error('download failed: getaddrinfo ENOTFOUND');
      },
    }).catch((e) => e);
    expect(err).toBeInstanceOf(RedisBinaryNotFoundError);
    expect(err.message).toMatchSnapshot();
  });
});
