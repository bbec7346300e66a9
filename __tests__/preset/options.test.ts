import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidOptionsError } from '../../src';
import { validateOptions } from '../../src/preset/options';

const root = mkdtempSync(join(tmpdir(), 'jcc-options-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
writeFileSync(join(root, 'schema.sql'), 'CREATE TABLE t (id int);');

function problem(raw: unknown): string {
  try {
    validateOptions(raw, root);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidOptionsError);
    expect((err as InvalidOptionsError).code).toBe('INVALID_OPTIONS');
    return (err as Error).message;
  }
  throw new Error('expected validateOptions to throw');
}

describe('validateOptions', () => {
  it('fills defaults when nothing is configured', () => {
    expect(validateOptions(undefined, root)).toEqual({
      redis: { args: [], startTimeoutMs: 10000 },
      database: { schema: [] },
    });
  });

  it('resolves schema paths against rootDir and accepts a single string', () => {
    expect(validateOptions({ database: { schema: 'schema.sql' } }, root).database.schema).toEqual([join(root, 'schema.sql')]);
    expect(validateOptions({ database: { schema: ['schema.sql'] } }, root).database.schema).toEqual([join(root, 'schema.sql')]);
  });

  it('keeps an external server with its isolation and flush permission', () => {
    expect(validateOptions({ redis: { url: 'redis://127.0.0.1:6380/4' } }, root).redis.external).toEqual({
      url: 'redis://127.0.0.1:6380/4',
      isolation: 'database',
      allowFlush: false,
    });
    expect(validateOptions({ redis: { url: 'redis://h:1', isolation: 'prefix', allowFlush: true } }, root).redis.external).toEqual({
      url: 'redis://h:1',
      isolation: 'prefix',
      allowFlush: true,
    });
  });

  it('fills cluster defaults: 3 masters, no replicas', () => {
    expect(validateOptions({ redis: { cluster: {} } }, root).redis.cluster).toEqual({ masters: 3, replicasPerMaster: 0 });
    expect(validateOptions({ redis: { cluster: { masters: 1, replicasPerMaster: 1 } } }, root).redis.cluster).toEqual({ masters: 1, replicasPerMaster: 1 });
  });

  it('keeps redis settings', () => {
    const o = validateOptions({ redis: { binary: '/usr/bin/redis-server', args: ['--maxmemory', '64mb'], startTimeoutMs: 500 } }, root);
    expect(o.redis).toEqual({ binary: '/usr/bin/redis-server', args: ['--maxmemory', '64mb'], startTimeoutMs: 500 });
  });

  it.each<[string, unknown]>([
    ['not an object', 'redis'],
    ['unknown top-level key, with a suggestion', { databse: {} }],
    ['unknown nested key, with a suggestion', { redis: { bianry: '/x' } }],
    ['empty binary', { redis: { binary: '' } }],
    ['args not an array', { redis: { args: '--maxmemory 1mb' } }],
    ['a port in args', { redis: { args: ['--port', '6379'] } }],
    ['a port and its value in one arg', { redis: { args: ['--port 6379'] } }],
    ['a negative timeout', { redis: { startTimeoutMs: -1 } }],
    ['a schema file that does not exist', { database: { schema: ['missing.sql'] } }],
    ['a schema entry that is not a string', { database: { schema: [42] } }],
    ['a url that is not a redis URL', { redis: { url: 'http://localhost:6379' } }],
    ['a url together with a binary', { redis: { url: 'redis://127.0.0.1:6380', binary: '/usr/bin/redis-server' } }],
    ['isolation without a url', { redis: { isolation: 'prefix' } }],
    ['an unknown isolation', { redis: { url: 'redis://127.0.0.1:6380', isolation: 'keys' } }],
    ['a password in args', { redis: { args: ['--requirepass', 'secret'] } }],
    ['a url whose path is not a database index', { redis: { url: 'redis://127.0.0.1:6380/cache' } }],
    ['a url that is not a URL, without echoing it', { redis: { url: 'redis://:secret@' } }],
    ['a cluster with no masters', { redis: { cluster: { masters: 0 } } }],
    ['a cluster with an unknown key', { redis: { cluster: { master: 3 } } }],
    ['a cluster on an external server', { redis: { url: 'redis://127.0.0.1:6380', cluster: { masters: 3 } } }],
    ['allowFlush that is not a boolean', { redis: { url: 'redis://127.0.0.1:6380', allowFlush: 'yes' } }],
  ])('rejects %s with a message naming the option and the fix', (_name, raw) => {
    expect(problem(raw).replaceAll(root, '<root>')).toMatchSnapshot();
  });
});
