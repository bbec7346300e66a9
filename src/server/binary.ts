import { accessSync, constants, statSync } from 'node:fs';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { RedisBinaryNotFoundError } from '../errors';

export type BinarySource = 'option' | 'env' | 'path' | 'redis-memory-server';

export interface RedisBinary {
  path: string;
  source: BinarySource;
}

export interface FindBinaryOptions {
  /** `cacheConsistency.redis.binary`, already resolved against rootDir. */
  binary?: string;
  env?: NodeJS.ProcessEnv;
  /** Overridable for tests: how to ask redis-memory-server. `null` means "not installed". */
  redisMemoryServer?: (() => Promise<string>) | null;
}

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

function loadRedisMemoryServer(): (() => Promise<string>) | null {
  let mod: { RedisBinary?: { getPath(): Promise<string> } };
  try {
    // Optional dependency: offline installs leave it out of node_modules.
    mod = require('redis-memory-server') as typeof mod;
  } catch {
    return null;
  }
  const rb = mod.RedisBinary;
  return rb ? () => rb.getPath() : null;
}

/**
 * Finds redis-server, in this order: the `redis.binary` option, `REDIS_SERVER_BINARY`, `redis-server` on
 * PATH, then redis-memory-server if installed. An explicit option or env var that points nowhere is an
 * error, never a silent fall-through.
 */
export async function findRedisServerBinary(options: FindBinaryOptions = {}): Promise<RedisBinary> {
  const env = options.env ?? process.env;
  const tried: string[] = [];

  if (options.binary !== undefined) {
    const file = resolve(options.binary);
    if (isExecutableFile(file)) return { path: file, source: 'option' };
    throw new RedisBinaryNotFoundError(
      [`option cacheConsistency.redis.binary = ${file} (not an executable file)`],
      'The option names a binary explicitly, so no other place was searched.',
    );
  }

  const fromEnv = env.REDIS_SERVER_BINARY;
  if (fromEnv) {
    const file = resolve(fromEnv);
    if (isExecutableFile(file)) return { path: file, source: 'env' };
    throw new RedisBinaryNotFoundError(
      [`env REDIS_SERVER_BINARY = ${file} (not an executable file)`],
      'The env var names a binary explicitly, so no other place was searched.',
    );
  }
  tried.push('option cacheConsistency.redis.binary (not set)', 'env REDIS_SERVER_BINARY (not set)');

  const dirs = (env.PATH ?? '').split(delimiter).filter((d) => d && isAbsolute(d));
  for (const dir of dirs) {
    const file = join(dir, 'redis-server');
    if (isExecutableFile(file)) return { path: file, source: 'path' };
  }
  tried.push(`redis-server on PATH (${dirs.length} directories)`);

  const rms = options.redisMemoryServer === undefined ? loadRedisMemoryServer() : options.redisMemoryServer;
  if (rms) {
    try {
      const file = await rms();
      if (file && isExecutableFile(file)) return { path: file, source: 'redis-memory-server' };
      tried.push(`redis-memory-server (returned ${JSON.stringify(file)}, not an executable file)`);
    } catch (err) {
      tried.push(`redis-memory-server (failed: ${err instanceof Error ? err.message : String(err)})`);
    }
  } else {
    tried.push('redis-memory-server (not installed)');
  }
  throw new RedisBinaryNotFoundError(tried);
}
