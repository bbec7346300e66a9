import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Config } from '@jest/types';
import { findRedisServerBinary } from '../server/binary';
import { startRedisServer, type RedisServer } from '../server/redisServer';
import { startWatchdog, type Watchdog } from '../server/watchdog';
import { validateOptions } from './options';
import { writeState, STATE_ENV } from './state';

interface Running {
  servers: RedisServer[];
  watchdog: Watchdog;
  socketDir: string;
  previousEnv: string | undefined;
  onExit: () => void;
}

// Jest may load globalSetup and globalTeardown as separate module instances: share through the process.
const RUNNING = Symbol.for('jest-cache-consistency.running');
type Holder = { [RUNNING]?: Running };
const holder = process as unknown as Holder;

/**
 * Validates `testEnvironmentOptions.cacheConsistency`, starts one redis-server per Jest worker under a
 * watchdog, and hands their URLs to the workers through the environment.
 */
export async function startServers(
  globalConfig: Pick<Config.GlobalConfig, 'maxWorkers' | 'rootDir'>,
  projectConfig?: Pick<Config.ProjectConfig, 'testEnvironmentOptions' | 'rootDir'>,
): Promise<void> {
  if (holder[RUNNING]) return; // already running in this process (several projects share the servers)
  const options = validateOptions(
    projectConfig?.testEnvironmentOptions?.cacheConsistency,
    projectConfig?.rootDir ?? globalConfig.rootDir,
  );
  const binary = await findRedisServerBinary({ binary: options.redis.binary });
  const count = Math.max(1, globalConfig.maxWorkers || 1);
  const watchdog = startWatchdog();
  // Short, private folder for the unix sockets (paths must stay under ~104 bytes).
  const socketDir = mkdtempSync(join(tmpdir().length > 60 ? '/tmp' : tmpdir(), 'jcc-'));
  watchdog.removeOnExit(socketDir);
  const servers: RedisServer[] = [];
  const results = await Promise.allSettled(
    Array.from({ length: count }, async (_, i) => {
      const server = await startRedisServer({
        binary: binary.path,
        args: options.redis.args,
        startTimeoutMs: options.redis.startTimeoutMs,
        unixSocket: join(socketDir, `${i + 1}.sock`),
      });
      watchdog.watch(server.pid);
      servers.push(server);
    }),
  );
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.all(servers.map((s) => s.stop()));
    watchdog.close();
    rmSync(socketDir, { recursive: true, force: true });
    throw failed.reason;
  }
  // A process that exits without running globalTeardown still takes its servers along.
  const onExit = () => {
    for (const s of servers) {
      try {
        process.kill(s.pid, 'SIGKILL');
      } catch {
        /* already gone */
      }
    }
  };
  process.once('exit', onExit);
  holder[RUNNING] = { servers, watchdog, socketDir, previousEnv: process.env[STATE_ENV], onExit };
  writeState({ version: 1, redisUrls: servers.map((s) => s.url), redisSockets: servers.map((s) => s.socket!), watchdogPid: watchdog.pid, options });
}

/** Stops what startServers started. Safe to call twice, or without startServers. */
export async function stopServers(): Promise<void> {
  const running = holder[RUNNING];
  if (!running) return;
  delete holder[RUNNING];
  process.removeListener('exit', running.onExit);
  await Promise.all(running.servers.map((s) => s.stop()));
  for (const s of running.servers) running.watchdog.unwatch(s.pid);
  running.watchdog.close();
  rmSync(running.socketDir, { recursive: true, force: true });
  if (running.previousEnv === undefined) delete process.env[STATE_ENV];
  else process.env[STATE_ENV] = running.previousEnv;
}
